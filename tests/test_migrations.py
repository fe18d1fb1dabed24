"""The migrations build the models' schema, and upgrade a live database: one holding the demo data is
brought back from every earlier revision to head with its rows kept (SQLite file by default, a scratch
PostgreSQL database with --db=postgres)."""
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, make_url, text

from app.extensions import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def test_models_and_migration_head_agree(app, ctx):
    """The schema built by `flask db upgrade` is exactly what the models declare."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


@pytest.fixture
def scratch_url(request, tmp_path):
    """An empty database of its own: downgrading the session database would break the other tests."""
    if request.config.getoption("--db") != "postgres":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    import os
    url = make_url(os.environ["TEST_DATABASE_URL"])
    url = url.set(database=f"{url.database}_migrations_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


def columns(conn):
    """{table: its column names}, for every table but Alembic's own."""
    inspector = inspect(conn)
    return {table: sorted(c["name"] for c in inspector.get_columns(table))
            for table in inspector.get_table_names() if table != "alembic_version"}


def rows(conn, table, names):
    """The table's rows as tuples of the named columns, sorted."""
    quote = conn.dialect.identifier_preparer.quote
    return sorted(conn.execute(text(f"SELECT {', '.join(map(quote, names))} FROM {quote(table)}")).all(), key=repr)


def test_a_database_with_the_demo_data_upgrades_from_every_earlier_revision(scratch_url, tmp_path):
    from flask_migrate import downgrade, upgrade

    from app import create_app

    app = create_app("test", SQLALCHEMY_DATABASE_URI=scratch_url, EVIDENCE_STORE_URL=f"file://{tmp_path}/evidence")
    earlier = [script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()][1:]
    assert earlier, "there is only one revision"
    with app.app_context():
        try:
            upgrade()
            loaded = app.test_cli_runner().invoke(args=["demo", "load"])
            assert loaded.exit_code == 0, loaded.output
            with db.engine.connect() as conn:
                at_head = columns(conn)
                counts = {table: len(rows(conn, table, names)) for table, names in at_head.items()}
            for table in ("users", "shops", "orders", "journal_lines", "cases", "case_events", "execution_tasks"):
                assert counts[table], f"the demo data has no {table}"
            for revision in earlier:  # newest first: each downgrade keeps the tables the next one needs
                with db.engine.connect() as conn:
                    before = {table: rows(conn, table, names) for table, names in at_head.items()}
                downgrade(revision=revision)
                with db.engine.connect() as conn:
                    kept = columns(conn)
                    down = {table: rows(conn, table, names) for table, names in kept.items()}
                assert {t: len(r) for t, r in down.items()} == {t: counts[t] for t in kept}, (
                    f"downgrading to {revision} lost rows")
                upgrade()
                with db.engine.connect() as conn:
                    assert columns(conn) == at_head
                    for table, names in at_head.items():
                        if table not in kept:
                            # the anchor log is filled from the events the database holds: one anchor each
                            anchored = table == "audit_anchors" and "case_events" in kept
                            assert len(rows(conn, table, names)) == (counts[table] if anchored else 0), (
                                f"{table} is newer than {revision} but has rows")
                            continue
                        at = [names.index(n) for n in kept[table]]
                        assert rows(conn, table, kept[table]) == sorted(
                            (tuple(row[i] for i in at) for row in before[table]), key=repr), (
                            f"{table}: rows changed through {revision}")
        finally:
            db.session.remove()
            db.engine.dispose()
