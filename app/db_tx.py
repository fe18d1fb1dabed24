"""One service call = one transaction. Side effects that leave the database are queued
with `after_commit` and run only once the commit succeeded; a rollback drops them."""
import logging
from contextlib import contextmanager
from contextvars import ContextVar

from flask import g

from .extensions import db

log = logging.getLogger(__name__)

_writing = ContextVar("tiaojie_writing", default=False)


def writing():
    """True inside transaction(): on SQLite the transaction then begins IMMEDIATE (see app/__init__.py)."""
    return _writing.get()


@contextmanager
def transaction():
    token = _writing.set(True)
    try:
        _end_sqlite_read_transaction()
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        g.pop("after_commit", None)
        raise
    finally:
        _writing.reset(token)
    for callback in g.pop("after_commit", []):
        try:
            callback()
        except Exception:  # noqa: BLE001 - the transaction committed: its caller must not see an error
            log.exception("after-commit callback %r failed", callback)


def after_commit(callback):
    g.setdefault("after_commit", []).append(callback)


def _end_sqlite_read_transaction():
    """On SQLite a transaction that began by reading cannot wait to become the writer: when another
    writer got there first SQLite answers "database is locked" at once, whatever the busy timeout.
    So a read transaction the request opened before this write (loading the user, the case) ends here,
    and the write transaction begins IMMEDIATE, queueing for the write lock."""
    session = db.session()
    if (session.in_transaction() and db.engine.dialect.name == "sqlite"
            and not session.connection().info.get("writer")):
        session.commit()


def lock(model, ident, *, fresh=False):
    """Load a row with SELECT … FOR UPDATE (a no-op on SQLite, whose writers are serialised).

    A copy of the row already in the session that is older than the locked row raises StaleDataError
    (the caller acted on what it saw); fresh=True forgets that copy first, for writes that do not
    depend on it (adding a message or a file to a case)."""
    if fresh:
        cached = db.session.identity_map.get(db.session.identity_key(model, ident))
        if cached is not None:
            db.session.expire(cached)
    return db.session.get(model, ident, with_for_update=True, populate_existing=True)


def lock_all(model, idents):
    """Lock a set of rows in primary-key order (SELECT … FOR UPDATE; as Saleor's lock_objects): two
    transactions locking overlapping sets always queue in the same order, so they cannot deadlock."""
    if not idents:
        return []
    return db.session.execute(
        db.select(model).where(model.id.in_(sorted(set(idents)))).order_by(model.id)
        .with_for_update().execution_options(populate_existing=True)).scalars().all()
