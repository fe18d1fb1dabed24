"""One service call = one transaction. Side effects that leave the database are queued
with `after_commit` and run only once the commit succeeded; a rollback drops them."""
import logging
from contextlib import contextmanager

from flask import g

from .extensions import db

log = logging.getLogger(__name__)


@contextmanager
def transaction():
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        g.pop("after_commit", None)
        raise
    for callback in g.pop("after_commit", []):
        try:
            callback()
        except Exception:  # noqa: BLE001 - the transaction committed: its caller must not see an error
            log.exception("after-commit callback %r failed", callback)


def after_commit(callback):
    g.setdefault("after_commit", []).append(callback)


def lock(model, ident):
    """Load a row with SELECT … FOR UPDATE (a no-op on SQLite, whose writers are serialised)."""
    return db.session.get(model, ident, with_for_update=True, populate_existing=True)
