import click
from flask.cli import AppGroup

from .audit import check_all, check_anchor_log

audit_cli = AppGroup("audit", help="The case audit trail.")


@audit_cli.command("verify")
@click.option("--case", "case_id", type=int, help="Check this case only (its id).")
def verify_command(case_id):
    """Check every case's chain against its anchors, its case row and its ledger entries, and the anchor
    log's own chain: one line per bad case, then a summary with the anchor log's head (keep it outside
    the database: a later run whose log no longer reaches it lost anchors); exit 1 when anything is wrong."""
    results = check_all(case_id)
    bad = [(case, result) for case, result in results if not result.valid]
    for case, result in bad:
        click.echo(f"FAIL {case.number} (id {case.id}): {'; '.join(result.problems)}")
    log_problems, head = check_anchor_log()
    for problem in log_problems:
        click.echo(f"FAIL anchor log: {problem}")
    if case_id is not None and not results:
        click.echo(f"FAIL no case with id {case_id}")
        raise SystemExit(1)
    summary = (f"{len(results)} cases, {sum(r.events for _, r in results)} events, "
               f"{sum(r.anchors for _, r in results)} anchors")
    if bad or log_problems:
        click.echo(f"failed: {len(bad)} of {summary}")
        raise SystemExit(1)
    click.echo(f"ok: {summary}; anchor log head {head or '-'}")
