import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from ..cases.models import Case
from ..errors import DomainError
from ..extensions import db
from .services import case_report, report_name

report_cli = AppGroup("report", help="Printable case reports.")


@report_cli.command("case")
@click.argument("number")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="The PDF file to write (default: <number>-<lang>.pdf).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
def case_command(number, output, lang):
    """Write the full report of case NUMBER (everything, ledger included: for operators)."""
    case = db.session.execute(select(Case).where(Case.number == number)).scalar_one_or_none()
    if case is None:
        raise click.ClickException(f"No case {number}")
    with current_app.test_request_context():
        try:
            pdf, _sha = case_report(case, user=None, lang=lang)
        except DomainError as err:
            raise click.ClickException(err.message) from None
    path = output or report_name(case, lang)
    with open(path, "wb") as f:
        f.write(pdf)
    click.echo(f"{path}: {len(pdf)} bytes")
