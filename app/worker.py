"""Celery, for deployments that run execution and deadlines on workers.

`make worker` (or `celery -A app.worker worker`) starts one; it is used only when
CELERY_BROKER_URL is set (e.g. redis://127.0.0.1:6379/0). Delivery is at least once:
a task is acknowledged after it ran (acks_late), a worker that dies has its task
redelivered (reject_on_worker_lost, visibility timeout longer than any task) — so every
job must be, and is, idempotent (app/jobs.py, which holds the Celery app and its settings).
Each Celery task runs the job of the same name from the registry, in the Flask app."""
from . import create_app
from .jobs import celery_app, run_job

_flask_app = None


def flask_app():
    global _flask_app
    if _flask_app is None:
        _flask_app = create_app()
    return _flask_app


def _run(name, *args):
    with flask_app().app_context():
        run_job(name, *args)


@celery_app.task(name="tiaojie.run_task")
def run_task_job(task_id, now=None):
    _run("run_task", task_id, now)


@celery_app.task(name="tiaojie.sweep")
def sweep_job():
    _run("sweep")
