"""`flask report …`: case reports and exports from the command line."""
import sys
from types import SimpleNamespace

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from ..cases.models import Case
from ..cases.queries import FILTERS, case_filter
from ..errors import DomainError, Invalid
from ..extensions import db
from .case_csv import csv_chunks
from .services import case_report, report_name

report_cli = AppGroup("report", help="Case reports and exports.")
OPERATOR = SimpleNamespace(id=None, role="admin")  # the command line sees every case, as an admin does
LOCALES = {"zh": "zh_CN", "en": "en"}


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


@report_cli.command("cases")
@click.option("--csv", "as_csv", is_flag=True, required=True, help="Write CSV (UTF-8 with BOM); the only format.")
@click.option("--phase")
@click.option("--state")
@click.option("--kind")
@click.option("--reason", help="An after-sales reason or a complaint type.")
@click.option("--shop", help="A shop id.")
@click.option("--mediator", help="A mediator's user id.")
@click.option("--opened-from", help="Opened on or after this day (YYYY-MM-DD, Asia/Shanghai).")
@click.option("--opened-to", help="Opened on or before this day (YYYY-MM-DD, Asia/Shanghai).")
@click.option("--lang", type=click.Choice(tuple(LOCALES)), default="zh", show_default=True)
@click.option("-o", "--output", type=click.File("wb"), help="Write to this file (default: standard output).")
def cases_command(as_csv, lang, output, **options):
    """The filtered case list, newest first, as the mediators' export writes it (streamed row by row)."""
    try:
        filters = case_filter({k: v for k, v in options.items() if v is not None and k in FILTERS})
    except Invalid as err:
        raise click.UsageError("; ".join(f"--{k.replace('_', '-')}: {v}" for k, v in err.details.items())) from None
    out = output or sys.stdout.buffer
    with force_locale(LOCALES[lang]):
        for chunk in csv_chunks(OPERATOR, filters):
            out.write(chunk)
    out.flush()
