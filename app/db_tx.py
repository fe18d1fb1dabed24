"""One service call = one transaction. Side effects that leave the database are queued
with `after_commit` and run only once the commit succeeded; a rollback drops them."""
from contextlib import contextmanager

from flask import g

from .extensions import db


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
        callback()


def after_commit(callback):
    g.setdefault("after_commit", []).append(callback)


def lock(model, ident):
    """Load a row with SELECT … FOR UPDATE (a no-op on SQLite, whose writers are serialised)."""
    return db.session.get(model, ident, with_for_update=True, populate_existing=True)


def lock_all(model, idents):
    """Lock a set of rows in primary-key order (SELECT … FOR UPDATE; as Saleor's lock_objects): two
    transactions locking overlapping sets always queue in the same order, so they cannot deadlock."""
    if not idents:
        return []
    return db.session.execute(
        db.select(model).where(model.id.in_(sorted(set(idents)))).order_by(model.id)
        .with_for_update().execution_options(populate_existing=True)).scalars().all()
