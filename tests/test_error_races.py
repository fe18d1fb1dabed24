"""A request the database chose to give way in a race (a deadlock or a serialization failure on
PostgreSQL, a lock wait that ran out on SQLite) was rolled back whole: it answers 409 — try again —
in API.md's format, never 500."""
import sqlite3

import pytest
from sqlalchemy.exc import OperationalError


class PgError(Exception):
    def __init__(self, sqlstate):
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize("orig", [PgError("40P01"), PgError("40001"), sqlite3.OperationalError("database is locked")])
def test_a_lost_race_is_a_409(app, orig):
    with app.test_request_context("/api/v1/cases/1/actions/agree", method="POST"):
        response = app.make_response(app.handle_user_exception(OperationalError("UPDATE cases …", {}, orig)))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"


def test_other_database_errors_stay_500(app):
    with app.test_request_context("/api/v1/cases/1", method="GET"):
        response = app.make_response(app.handle_user_exception(
            OperationalError("SELECT …", {}, PgError("08006"))))
    assert response.status_code == 500
