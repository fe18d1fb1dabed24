"""Configuration classes. Every value can be overridden by an environment variable
of the same name (DATABASE_URL first); see README "Configuration"."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("TIAOJIE_INSTANCE", BASE_DIR / "instance"))
DEV_SECRET_KEY = "dev-only-not-secret"


def _env(name, default, cast=str):
    value = os.environ.get(name)
    if value is None:
        return default
    if cast is bool:
        return value.lower() in ("1", "true", "yes", "on")
    return cast(value)


class Config:
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'tiaojie.db'}")
    SECRET_KEY = _env("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLITE_BUSY_TIMEOUT_MS = _env("SQLITE_BUSY_TIMEOUT_MS", 30_000, int)  # how long a write waits for SQLite's lock
    WTF_CSRF_ENABLED = True
    SESSION_COOKIE_SAMESITE = "Lax"     # a page on another site cannot post with the user's session
    REMEMBER_COOKIE_SAMESITE = "Lax"
    BABEL_DEFAULT_LOCALE = _env("BABEL_DEFAULT_LOCALE", "zh_CN")
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("zh_CN", "en")
    DISPLAY_TIMEZONE = _env("DISPLAY_TIMEZONE", "Asia/Shanghai")
    API_TOKEN_TTL_HOURS = _env("API_TOKEN_TTL_HOURS", 24, int)
    LOGIN_MAX_FAILURES = _env("LOGIN_MAX_FAILURES", 5, int)
    LOGIN_FAILURE_WINDOW_MINUTES = _env("LOGIN_FAILURE_WINDOW_MINUTES", 15, int)
    EVIDENCE_STORE_URL = _env("EVIDENCE_STORE_URL", f"file://{INSTANCE_DIR / 'evidence'}")
    EVIDENCE_MAX_BYTES = _env("EVIDENCE_MAX_BYTES", 20 * 1024 * 1024, int)
    # 25 MP: a 24 MP phone photo (5712 x 4284) or a 1170 x 20000 long screenshot fits; decoded it is 75-100 MB
    EVIDENCE_MAX_IMAGE_PIXELS = _env("EVIDENCE_MAX_IMAGE_PIXELS", 25_000_000, int)
    MAX_CONTENT_LENGTH = EVIDENCE_MAX_BYTES + 1024 * 1024  # any request body; uploads are also checked while streaming
    MESSAGE_MAX_CHARS = 5000
    CELERY_BROKER_URL = _env("CELERY_BROKER_URL", "")  # empty: jobs run inline after the commit
    SHOW_DEMO_LOGINS = False
    TESTING = False
    DEBUG = False


class DevelopmentConfig(Config):
    DEBUG = _env("FLASK_DEBUG", False, bool)
    SHOW_DEMO_LOGINS = _env("SHOW_DEMO_LOGINS", True, bool)


class TestConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    SHOW_DEMO_LOGINS = True


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _env("SESSION_COOKIE_SECURE", True, bool)


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}
