"""Fixtures: one app per test session on SQLite (always) or PostgreSQL (`--db=postgres`,
with TEST_DATABASE_URL). The schema comes from the migrations; every test starts from
empty tables (rows are deleted afterwards, so tests may commit and use threads)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# Property tests: a short profile in every run; `make soak` runs thousands of sequences with a fixed seed.
_PROPERTY = dict(deadline=None, suppress_health_check=list(HealthCheck), stateful_step_count=25)
settings.register_profile("ci", max_examples=20, **_PROPERTY)
settings.register_profile("soak", max_examples=int(os.environ.get("SOAK_EXAMPLES", 2_000)), database=None,
                          print_blob=True, **_PROPERTY)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser):
    parser.addoption("--db", choices=("sqlite", "postgres"), default="sqlite",
                     help="database to run against; postgres needs TEST_DATABASE_URL")


def pytest_configure(config):
    if config.getoption("--db") == "postgres" and not os.environ.get("TEST_DATABASE_URL"):
        raise pytest.UsageError("--db=postgres needs TEST_DATABASE_URL")
    po = ROOT / "app/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        subprocess.run([str(Path(sys.executable).with_name("pybabel")), "compile", "-d",
                        str(ROOT / "app/translations")], check=True, capture_output=True)


def pytest_collection_modifyitems(config, items):
    if config.getoption("--db") != "postgres":
        skip = pytest.mark.skip(reason="PostgreSQL only: run with --db=postgres")
        for item in items:
            if "tests/postgres/" in str(item.fspath).replace(os.sep, "/"):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory):
    if request.config.getoption("--db") == "postgres":
        url = os.environ["TEST_DATABASE_URL"]
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        return _worker_database(url, worker) if worker else url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"  # one per xdist worker already


def _worker_database(url, worker):
    """With pytest-xdist each worker gets a PostgreSQL database of its own (<name>_<worker>), created
    empty: the session fixture drops and rebuilds the schema, which workers must not do to each other."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(url)
    url = url.set(database=f"{url.database}_{worker}")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    os.environ["TIAOJIE_INSTANCE"] = str(instance)
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url, EVIDENCE_STORE_URL=f"file://{instance}/evidence")
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        db.session.remove()
    return app


@pytest.fixture(autouse=True)
def _clean_tables(request):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    from app.extensions import db

    from .factories import empty_tables

    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            empty_tables(conn)


@pytest.fixture
def ctx(app):
    """An application context: services and queries can run inside the test."""
    from app.extensions import db

    with app.test_request_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login_as(client):
    """login_as(user) logs the test client in through the real login form."""
    def login(user, password="secret-pass"):
        response = client.post("/login", data={"username": user.username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user
    return login
