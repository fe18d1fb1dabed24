import time

import click
from flask.cli import AppGroup

from .services import referenced_now, remove_orphan
from .storage import get_store

evidence_cli = AppGroup("evidence", help="The evidence store.")


@evidence_cli.command("verify")
@click.option("--clean", is_flag=True, help="Remove the orphaned files and stale temporary files found.")
@click.option("--min-age-minutes", default=60, show_default=True, type=click.IntRange(min=0),
              help="Orphans and temporary files younger than this may belong to an upload going on: left alone.")
def verify_command(clean, min_age_minutes):
    """Re-hash every stored evidence file and report any whose content no longer matches its name;
    report stored files no evidence row refers to (orphans) and temporary files left by killed uploads.
    Exits 1 when a problem is left."""
    store, max_age, now = get_store(), min_age_minutes * 60, time.time()
    referenced = referenced_now()  # no transaction stays open during the long re-hash below
    bad = []
    for sha in sorted(referenced):
        if not store.exists(sha):
            bad.append((sha, "missing"))
        elif not store.verify(sha):
            bad.append((sha, "content does not match its SHA-256"))
    for sha, problem in bad:
        click.echo(f"BAD {sha}: {problem}")
    orphans = [sha for sha in store.iter_all()
               if sha not in referenced and now - (store.modified_at(sha) or now) > max_age]
    if clean:
        # `referenced` is as old as the re-hash: an upload may have used a file since (its row, or its
        # reuse refreshing the file's modified time). Each one is checked again just before it is deleted.
        orphans = [sha for sha in orphans if remove_orphan(store, sha, max_age)]
    for sha in orphans:
        click.echo(f"ORPHAN {sha}: no evidence refers to it" + (" (removed)" if clean else ""))
    temps = store.stale_temp_files(max_age, remove=clean, now=now)
    for path in temps:
        click.echo(f"STALE {path}: temporary file of an unfinished upload" + (" (removed)" if clean else ""))
    click.echo(f"checked {len(referenced)} files, {len(bad)} bad, {len(orphans)} orphaned, "
               f"{len(temps)} stale temporary files")
    if bad or (not clean and (orphans or temps)):
        raise SystemExit(1)
