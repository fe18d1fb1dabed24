import click
from flask.cli import AppGroup

from ..rules import get_rules
from ..timeutil import local_date, utcnow
from .queries import all_shops, window_days
from .services import rebuild_rollups, refresh_rollups

metrics_cli = AppGroup("metrics", help="Seller service metrics (卖家服务质量).")


@metrics_cli.command("rebuild")
def rebuild_command():
    """Recompute the daily rollup of every shop from scratch."""
    rows = rebuild_rollups()
    click.echo(f"rebuilt {rows} shop-days")


@metrics_cli.command("refresh")
def refresh_command():
    """Recompute today, yesterday and the days changed since the last run (the sweeper does this too)."""
    days = refresh_rollups()
    click.echo("rebuilt all days" if days is None else f"recomputed {len(days)} days")


@metrics_cli.command("show")
def show_command():
    """Every category's figures over the window (pooled averages)."""
    first, last = window_days(local_date(utcnow()), get_rules()["metrics_window_days"])
    _, categories = all_shops(first, last)
    click.echo(f"window {first} … {last}")
    for category, f in sorted(categories.items()):
        click.echo(f"{category}: paid {f.paid_orders}, refunds {f.refunds} (dispute {f.dispute_refunds}, "
                   f"timeout {f.timeout_refunds}, agreed {f.agreed_refunds}), complaints {f.complaints}, "
                   f"breaches {f.breaches}")
