"""Celery, for deployments that run execution and deadlines on workers.

`make worker` (or `celery -A app.worker worker`) starts one; it is used only when
CELERY_BROKER_URL is set (e.g. redis://127.0.0.1:6379/0). Delivery is at least once:
a task is acknowledged after it ran (acks_late), a worker that dies has its task
redelivered (reject_on_worker_lost, visibility timeout longer than any task) — so every
job must be, and is, idempotent (app/jobs.py)."""
import os

from celery import Celery

celery_app = Celery("tiaojie")
celery_app.conf.update(
    broker_url=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"),
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_transport_options={"visibility_timeout": 3600},  # far above the longest task (seconds)
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
)

_flask_app = None


def flask_app():
    global _flask_app
    if _flask_app is None:
        from . import create_app
        _flask_app = create_app()
    return _flask_app


@celery_app.task(name="tiaojie.run_task")
def run_task_job(task_id, now=None):
    from .jobs import run_job
    with flask_app().app_context():
        run_job("run_task", task_id, now)


@celery_app.task(name="tiaojie.sweep")
def sweep_job():
    from .jobs import run_job
    with flask_app().app_context():
        run_job("sweep")
