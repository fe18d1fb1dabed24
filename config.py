"""Configuration classes. Every value can be overridden by an environment variable
of the same name (DATABASE_URL first); see README "Configuration"."""
import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("TIAOJIE_INSTANCE", BASE_DIR / "instance"))


def _env(name, default, cast=str):
    value = os.environ.get(name)
    if value is None:
        return default
    if cast is bool:
        return value.lower() in ("1", "true", "yes", "on")
    return cast(value)


class Config:
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'tiaojie.db'}")
    SECRET_KEY = _env("SECRET_KEY", None)  # unset: create_app keeps a random key in <instance>/secret_key
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLITE_BUSY_TIMEOUT_MS = _env("SQLITE_BUSY_TIMEOUT_MS", 30_000, int)  # how long a write waits for SQLite's lock
    WTF_CSRF_ENABLED = True
    SESSION_COOKIE_SAMESITE = "Lax"     # a page on another site cannot post with the user's session
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = timedelta(hours=_env("SESSION_LIFETIME_HOURS", 12, int))  # a signed cookie's age limit
    BABEL_DEFAULT_LOCALE = _env("BABEL_DEFAULT_LOCALE", "zh_CN")
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("zh_CN", "en")
    DISPLAY_TIMEZONE = _env("DISPLAY_TIMEZONE", "Asia/Shanghai")
    API_TOKEN_TTL_HOURS = _env("API_TOKEN_TTL_HOURS", 24, int)
    # Login throttling (app/auth/services.py): past the free failures of a username (or of a client address,
    # across all usernames) within the window, each attempt waits BASE·2^k seconds (capped) after the last
    # failure; failures older than the window are forgotten and pruned.
    LOGIN_MAX_FAILURES = _env("LOGIN_MAX_FAILURES", 5, int)
    LOGIN_ADDRESS_MAX_FAILURES = _env("LOGIN_ADDRESS_MAX_FAILURES", 20, int)
    LOGIN_FAILURE_WINDOW_MINUTES = _env("LOGIN_FAILURE_WINDOW_MINUTES", 24 * 60, int)
    LOGIN_DELAY_BASE_SECONDS = _env("LOGIN_DELAY_BASE_SECONDS", 1, int)
    LOGIN_DELAY_CAP_SECONDS = _env("LOGIN_DELAY_CAP_SECONDS", 15 * 60, int)
    # A browser's signed tj_device cookie from a successful login exempts it from those delays (its own failures
    # count against it instead): an attacker's guesses cannot lock the user out of the browsers they use.
    LOGIN_DEVICE_COOKIE_DAYS = _env("LOGIN_DEVICE_COOKIE_DAYS", 180, int)
    # How many reverse proxies in front of the app add X-Forwarded-For/-Proto (0: none, the header is ignored).
    # Behind a proxy, leaving it 0 makes the proxy's address every client's: login throttling by address
    # then throttles the whole site.
    TRUSTED_PROXIES = _env("TRUSTED_PROXIES", 0, int)
    EVIDENCE_STORE_URL = _env("EVIDENCE_STORE_URL", f"file://{INSTANCE_DIR / 'evidence'}")
    EVIDENCE_MAX_BYTES = _env("EVIDENCE_MAX_BYTES", 20 * 1024 * 1024, int)
    # 25 MP: a 24 MP phone photo (5712 x 4284) or a 1170 x 20000 long screenshot fits; decoded it is 75-100 MB
    EVIDENCE_MAX_IMAGE_PIXELS = _env("EVIDENCE_MAX_IMAGE_PIXELS", 25_000_000, int)
    # above it an image is kept without thumbnail, except a JPEG (its thumbnail comes from a 1/2-1/8 scale decode)
    EVIDENCE_THUMB_MAX_PIXELS = _env("EVIDENCE_THUMB_MAX_PIXELS", 16_000_000, int)
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
    SECRET_KEY = "test-only-key-never-used-outside-the-test-suite"
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    SHOW_DEMO_LOGINS = True


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _env("SESSION_COOKIE_SECURE", True, bool)
    REMEMBER_COOKIE_SECURE = _env("REMEMBER_COOKIE_SECURE", True, bool)


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}
