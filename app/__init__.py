"""create_app(): config → extensions → blueprints → CLI → error handlers."""
import json
import os

from flask import Flask, request, session
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError, ProgrammingError

import config as config_module
from .db_tx import writing
from .demo.data import DEMO_PASSWORD, DEMO_USERNAMES  # noqa: F401  (also app.DEMO_*, as before)
from .errors import register_error_handlers
from .extensions import babel, csrf, db, login_manager, migrate
from .ids import MAX_ID, IdConverter  # noqa: F401  (also app.MAX_ID, as before)
from .jobs import celery_app

# The most bytes of an urlencoded page form (read before any of it is parsed; the API and the evidence upload
# have limits of their own). Werkzeug parses such a body whole, field by field: 20 MB of "a=1&" took 15 s and
# 700 MB. The longest real form, a decision's findings + rule + note in Chinese percent-encoded, is ≈ 56 KB.
PAGE_FORM_LIMIT = 128 * 1024


def create_app(config_name=None, **overrides):
    config_name = config_name or os.environ.get("TIAOJIE_CONFIG", "development")
    app = Flask(__name__, template_folder="../templates",
                instance_path=str(config_module.INSTANCE_DIR))
    app.config.from_object(config_module.CONFIGS[config_name])
    if os.environ.get("TIAOJIE_RULES"):
        app.config["RULES"] = json.loads(os.environ["TIAOJIE_RULES"])
    app.config.update(overrides)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config["SECRET_KEY"]:
        from .auth.secret_key import instance_secret_key
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    if app.config["TRUSTED_PROXIES"]:  # the client's address and scheme as the proxies saw them
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)
    if app.config["CELERY_BROKER_URL"]:  # jobs go where this app is configured to send them
        celery_app.conf.broker_url = app.config["CELERY_BROKER_URL"]

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
                     render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    app.before_request(_limit_page_forms)  # before CSRFProtect's hook, the first to read the form
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    from . import models  # noqa: F401  (register every table)
    # the areas register their jobs (app/jobs.py) and subscribe to each other's events as they are imported
    from .cases import services as _cases  # noqa: F401
    from .deadlines import services as _deadlines  # noqa: F401
    from .credit import services as _credit  # noqa: F401  (flags buyers when a decision binds)

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _sqlite_transactions(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
        if config_name == "production":
            _refuse_insecure_production(app)

    app.url_map.converters["int"] = IdConverter  # ids past the database's integer range are simply not found
    from .auth.routes import bp as auth_bp
    from .orders.routes import bp as orders_bp
    from .rulebook.routes import bp as rulebook_bp
    from .cases.routes import bp as cases_bp
    from .catalog.routes import bp as catalog_bp
    from .reports.routes import bp as reports_bp
    from .metrics.routes import bp as metrics_bp
    from .overview.routes import bp as overview_bp
    from .admin.routes import bp as admin_bp
    from .penalties.routes import bp as penalties_bp
    from .credit.routes import bp as credit_bp
    from .api.v1 import (analysis, auth, bp as api_bp, cases, catalog, credit, evidence, metrics, openapi,  # noqa: F401
                         orders, reports)
    for bp in (auth_bp, orders_bp, cases_bp, catalog_bp, rulebook_bp, reports_bp, metrics_bp, overview_bp, admin_bp,
               penalties_bp, credit_bp, api_bp):
        app.register_blueprint(bp)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, not cookies

    from .deadlines.cli import deadlines_cli
    from .demo.cli import demo_cli
    app.cli.add_command(demo_cli)
    app.cli.add_command(deadlines_cli)
    from .rulebook.cli import workflows_cli
    app.cli.add_command(workflows_cli)
    from .evidence.cli import evidence_cli
    app.cli.add_command(evidence_cli)
    from .payments.cli import payments_cli
    app.cli.add_command(payments_cli)
    from .cases.cli import audit_cli
    app.cli.add_command(audit_cli)
    from .reports.cli import report_cli
    app.cli.add_command(report_cli)
    from .metrics.cli import metrics_cli
    app.cli.add_command(metrics_cli)
    @app.before_request
    def _refuse_nul_characters():
        """PostgreSQL text cannot hold NUL: refuse it in page query strings and forms on every database
        (the API validates its own fields and answers 422)."""
        if request.path.startswith("/api/"):
            return
        values = [v for _, v in request.args.items(multi=True)]
        if request.mimetype == "application/x-www-form-urlencoded" or (
                request.mimetype == "multipart/form-data" and request.endpoint != "cases.upload"):
            # (the evidence upload streams its own multipart body and refuses NUL there)
            values += [v for _, v in request.form.items(multi=True)]
            values += [f.filename or "" for _, f in request.files.items(multi=True)]
        if any("\x00" in v for v in values):
            from flask_babel import gettext

            from .errors import BadRequest
            raise BadRequest(gettext("Text must not contain NUL characters."))

    @app.after_request
    def _page_headers(response):
        """Pages cannot be framed by another site (one-click actions), are not sniffed, do not leak their
        URLs to other sites, and a signed-in page is not kept in shared caches."""
        if request.path.startswith("/static/"):
            return response
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.path.startswith("/api/") and session.get("_user_id"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    from .web import register_template_helpers
    register_template_helpers(app)
    register_error_handlers(app)
    return app


def _limit_page_forms():
    """413 for an urlencoded page body over PAGE_FORM_LIMIT: by its Content-Length before a byte is read, and
    by reading at most one byte past it from a streamed one."""
    if request.path.startswith("/api/") or request.mimetype != "application/x-www-form-urlencoded":
        return
    from werkzeug.exceptions import RequestEntityTooLarge
    if (request.content_length or 0) > PAGE_FORM_LIMIT:
        raise RequestEntityTooLarge()
    request.max_content_length = PAGE_FORM_LIMIT + 1  # a streamed body: read one byte past the limit at most
    if len(request.get_data(cache=True)) > PAGE_FORM_LIMIT:  # (the form is then parsed from these bytes)
        raise RequestEntityTooLarge()


# pages load only this site's own scripts, styles and images (no inline script or style: an injected
# <script> or style attribute does nothing), post forms only here, and cannot be framed
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _select_locale():
    lang = request.args.get("lang") or session.get("lang")
    return lang if lang in ("zh_CN", "en") else "zh_CN"


def _sqlite_transactions(engine, busy_timeout_ms):
    """Let SQLAlchemy, not pysqlite, open transactions, so SAVEPOINTs work (SQLAlchemy docs).

    Concurrent requests wait their turn: in WAL mode readers never wait for the writer, and a writer
    waits up to the busy timeout for the write lock. Transactions opened inside db_tx.transaction()
    begin IMMEDIATE, taking the write lock before they read, so two requests never both read and then
    both try to become the writer (which SQLite refuses at once with "database is locked")."""
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        dbapi_connection.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.info["writer"] = writing()
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info["writer"] else "BEGIN")


def _refuse_insecure_production(app):
    from .auth.secret_key import MIN_KEY_BYTES
    if len(str(app.config["SECRET_KEY"]).encode()) < MIN_KEY_BYTES:
        raise RuntimeError(f"Refusing to start: SECRET_KEY is shorter than {MIN_KEY_BYTES} bytes")
    from .auth.models import User
    try:
        demo = db.session.execute(select(User.username).where(User.username.in_(DEMO_USERNAMES))).first()
    except (OperationalError, ProgrammingError):  # schema not migrated yet
        db.session.rollback()
        demo = None
    finally:
        db.session.remove()
    if demo:
        raise RuntimeError("Refusing to start: demo accounts exist in a production database")
