import click
from flask.cli import AppGroup
from sqlalchemy import select, union

from ..extensions import db
from .models import Evidence
from .storage import get_store

evidence_cli = AppGroup("evidence", help="The evidence store.")


@evidence_cli.command("verify")
def verify_command():
    """Re-hash every stored evidence file and report any whose content no longer matches its name."""
    store = get_store()
    hashes = db.session.execute(union(select(Evidence.sha256),
                                      select(Evidence.thumb_sha256).where(Evidence.thumb_sha256.is_not(None))))
    checked, bad = 0, []
    for (sha,) in hashes:
        checked += 1
        if not store.exists(sha):
            bad.append((sha, "missing"))
        elif not store.verify(sha):
            bad.append((sha, "content does not match its SHA-256"))
    for sha, problem in bad:
        click.echo(f"BAD {sha}: {problem}")
    click.echo(f"checked {checked} files, {len(bad)} bad")
    if bad:
        raise SystemExit(1)
