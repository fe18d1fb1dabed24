""""Run this soon, at least once, safely": the one mechanism execution and deadlines share.

Durable state lives in the database (a task's or case's `due_at` + `on_timeout`, set in the
transaction that queues the job, due at once): a job only says "look at it now". Jobs run
inline after the commit in the embedded default, or as Celery tasks when CELERY_BROKER_URL
is set. A job that cannot be sent (the broker is down) is logged and dropped: its row is
due, so the sweeper carries it out. Every job is idempotent, because Celery delivers at
least once (acks_late) and the sweeper may look at the same row again.

Areas register their jobs by name (`register_job`) when they are imported at app start-up
(create_app), so this module imports no area."""
import logging
import os
from datetime import datetime

from celery import Celery
from flask import current_app

from .db_tx import after_commit
from .errors import DomainError
from .extensions import db

log = logging.getLogger(__name__)

JOBS = {}  # name → function(*args), filled by the areas

celery_app = Celery("tiaojie")
celery_app.conf.update(
    broker_url=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"),
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    # visibility far above the longest task; a broker that does not answer fails a send in seconds
    broker_transport_options={"visibility_timeout": 3600, "socket_connect_timeout": 2, "socket_timeout": 3},
    broker_connection_timeout=2,
    task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2},
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
)


def register_job(name, function):
    JOBS[name] = function


def enqueue(name, *args):
    """Queue job `name` to run after the current transaction commits (datetimes travel as ISO text)."""
    args = tuple(a.isoformat() if isinstance(a, datetime) else a for a in args)
    after_commit(lambda: dispatch(name, *args))


def dispatch(name, *args):
    if current_app.config.get("CELERY_BROKER_URL"):
        try:
            celery_app.send_task(f"tiaojie.{name}", args=args)
        except Exception as exc:  # noqa: BLE001 - the row is due: the sweeper runs the job instead
            log.error("job %s%r not sent to the broker (%s: %s); the sweeper will run it",
                      name, args, type(exc).__name__, exc)
    else:
        run_job(name, *args)


def run_job(name, *args):
    """Run a job; a failure never escapes (the action that queued it has already committed):
    the row keeps its deadline and the sweeper runs it again."""
    try:
        JOBS[name](*args)
    except DomainError as exc:
        log.warning("job %s%r: %s", name, args, exc.message)
    except Exception:  # noqa: BLE001
        db.session.rollback()
        log.exception("job %s%r failed; the sweeper will retry it", name, args)
