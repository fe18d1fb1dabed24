import pytest

from app import create_app

from .factories import make_user


def test_production_refuses_the_development_secret_key(database_url):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", SQLALCHEMY_DATABASE_URI=database_url)


def test_production_refuses_a_database_with_demo_accounts(app, ctx, database_url):
    assert create_app("production", SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY="s3cret-for-prod")
    make_user("buyer", username="buyer1")
    with pytest.raises(RuntimeError, match="demo accounts"):
        create_app("production", SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY="s3cret-for-prod")
