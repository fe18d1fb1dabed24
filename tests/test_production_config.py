import pytest

import config as config_module
from app import create_app

from .factories import make_user

PROD_KEY = "a-production-key-of-at-least-32-bytes"


@pytest.mark.parametrize("key", ["dev-only-not-secret", "s3cret-for-prod", "x" * 31])
def test_production_refuses_a_secret_key_shorter_than_32_bytes(database_url, key):
    with pytest.raises(RuntimeError, match="SECRET_KEY is shorter than 32 bytes"):
        create_app("production", SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY=key)


def test_production_without_a_key_uses_the_random_instance_key(database_url, tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(config_module, "INSTANCE_DIR", tmp_path)
    app = create_app("production", SQLALCHEMY_DATABASE_URI=database_url)
    assert app.config["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()


def test_production_refuses_a_database_with_demo_accounts(app, ctx, database_url):
    assert create_app("production", SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY=PROD_KEY)
    make_user("buyer", username="buyer1")
    with pytest.raises(RuntimeError, match="demo accounts"):
        create_app("production", SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY=PROD_KEY)
