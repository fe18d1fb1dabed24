import click
from flask.cli import AppGroup

from .verify import counts, verify_money

payments_cli = AppGroup("payments", help="The ledger.")


@payments_cli.command("verify")
def verify_command():
    """Check every invariant of the money; print the first violation and exit 1, or a summary."""
    violations = verify_money()
    if violations:
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        click.echo(f"VIOLATION {violations[0]}{more}")
        raise SystemExit(1)
    n = counts()
    click.echo(f"ok: {n['entries']} entries ({n['lines']} lines) on {n['accounts']} accounts, "
               f"{n['orders']} orders: every invariant of the money holds")
