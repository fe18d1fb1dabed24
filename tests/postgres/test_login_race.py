"""PostgreSQL only: parallel wrong guesses get no more tries than the limit."""
from sqlalchemy import func, select

from app.auth.models import LoginFailure
from app.auth.services import authenticate
from app.errors import NotAuthenticated, RateLimited
from app.extensions import db

from ..concurrency import race
from ..factories import make_user


def test_twenty_parallel_guesses_get_exactly_the_limit(app, ctx):
    username = make_user("buyer").username  # read here: the threads must not touch this test's session
    guess = lambda i: lambda: authenticate(username, f"guess{i}", remote_addr=f"203.0.113.{i}")  # noqa: E731
    results = race(app, [guess(i) for i in range(20)])
    tried = [r for r in results if isinstance(r, NotAuthenticated)]
    assert len(tried) == app.config["LOGIN_MAX_FAILURES"], results
    assert all(isinstance(r, RateLimited) for r in results if r not in tried), results
    assert db.session.execute(select(func.count()).select_from(LoginFailure)).scalar_one() == len(tried)


def test_parallel_guesses_from_one_address_across_usernames_get_exactly_its_limit(app, ctx):
    limit = app.config["LOGIN_ADDRESS_MAX_FAILURES"]
    guess = lambda i: lambda: authenticate(f"victim{i}", "Spring2026!", remote_addr="203.0.113.9")  # noqa: E731
    results = race(app, [guess(i) for i in range(limit + 10)])
    assert sum(isinstance(r, NotAuthenticated) for r in results) == limit, results
    assert sum(isinstance(r, RateLimited) for r in results) == 10, results


def test_parallel_guesses_with_one_device_cookie_get_exactly_the_devices_tries(app, ctx):
    from app.auth.services import new_device_cookie
    username = make_user("buyer").username
    cookie = new_device_cookie(username)
    guess = lambda i: lambda: authenticate(username, f"guess{i}", remote_addr=f"203.0.113.{i}",  # noqa: E731
                                           device_cookie=cookie)
    results = race(app, [guess(i) for i in range(20)])
    assert sum(isinstance(r, NotAuthenticated) for r in results) == app.config["LOGIN_MAX_FAILURES"], results
    assert all(isinstance(r, (NotAuthenticated, RateLimited)) for r in results), results
