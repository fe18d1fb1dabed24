""""Run this soon, at least once, safely": the one mechanism execution and deadlines share.

Durable state lives in the database (a task's or case's `due_at` + `on_timeout`); a job
only says "look at it now". Jobs run inline after the commit in the embedded default, or
as Celery tasks when CELERY_BROKER_URL is set. Every job is idempotent, because Celery
delivers at least once (acks_late) and the sweeper may look at the same row again."""
from datetime import datetime

from flask import current_app

from .db_tx import after_commit


def enqueue(name, *args):
    """Queue job `name` to run after the current transaction commits (datetimes travel as ISO text)."""
    args = tuple(a.isoformat() if isinstance(a, datetime) else a for a in args)
    after_commit(lambda: dispatch(name, *args))


def dispatch(name, *args):
    if current_app.config.get("CELERY_BROKER_URL"):
        from .worker import celery_app
        celery_app.send_task(f"tiaojie.{name}", args=args)
    else:
        run_job(name, *args)


def run_job(name, *args):
    """Run a job; a failure never escapes (the action that queued it has already committed):
    the row keeps its deadline and the sweeper runs it again."""
    from .deadlines.services import sweep
    from .errors import DomainError
    from .execution.services import run_task
    from .extensions import db
    jobs = {"run_task": run_task, "sweep": lambda: sweep()}
    try:
        jobs[name](*args)
    except DomainError as exc:
        current_app.logger.warning("job %s%r: %s", name, args, exc.message)
    except Exception:
        db.session.rollback()
        current_app.logger.exception("job %s%r failed; the sweeper will retry it", name, args)
