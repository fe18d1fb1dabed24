import logging
import time
from datetime import datetime

import click
from flask.cli import AppGroup
from sqlalchemy.exc import DBAPIError

from ..extensions import db
from ..timeutil import as_utc
from .services import sweep

log = logging.getLogger(__name__)

deadlines_cli = AppGroup("deadlines", help="The deadline sweeper.")


@deadlines_cli.command("run")
@click.option("--at", "at", help="Sweep as if it were this ISO time (e.g. 2026-12-01T00:00:00+08:00).")
@click.option("--loop", is_flag=True, help="Keep sweeping every --interval seconds.")
@click.option("--interval", default=30, show_default=True, help="Seconds between sweeps with --loop.")
@click.option("--batch-size", default=200, show_default=True)
def run_command(at, loop, interval, batch_size):
    """Fire every overdue deadline as the system actor."""
    try:
        now = as_utc(datetime.fromisoformat(at)) if at else None
    except ValueError:
        raise click.BadParameter("not an ISO 8601 time", param_hint="--at") from None
    while True:
        try:
            result = sweep(now, batch_size=batch_size)
        except Exception as exc:
            if not loop:
                raise
            _recover(exc)  # the loop lives on: the next turn sweeps again
        else:
            click.echo(f"fired {result.fired} case deadlines, {result.failed} failed (retried later), "
                       f"auto-confirmed {result.orders_confirmed} orders, ran {result.tasks_run} execution tasks")
            for number, trigger, message in result.errors:
                click.echo(f"  {number}: {trigger} failed: {message}")
        if not loop:
            break
        time.sleep(interval)


def _recover(exc):
    """After a failed sweep: log it, roll back, and on a database error (a lost connection) drop the
    pool's connections, so the next turn connects afresh."""
    log.error("sweep failed; sweeping again at the next turn", exc_info=exc)
    click.echo(f"sweep failed: {type(exc).__name__}: {exc}", err=True)
    try:
        db.session.rollback()
    except DBAPIError:
        pass
    db.session.remove()
    if isinstance(exc, DBAPIError):
        db.engine.dispose()
