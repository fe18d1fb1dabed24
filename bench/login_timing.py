"""How long a wrong login takes for an existing and for an unknown username (POST /api/v1/auth/token,
20 each, through the test client on a scratch SQLite file; throttling limits raised out of the way).
Prints the median and the spread; asserts nothing.

    .venv/bin/python -m bench.login_timing
"""
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TIAOJIE_INSTANCE", tempfile.mkdtemp(prefix="tiaojie-bench-"))

from werkzeug.security import generate_password_hash  # noqa: E402

from app import create_app  # noqa: E402
from app.auth.models import User  # noqa: E402
from app.extensions import db  # noqa: E402

N = 20


def main():
    url = f"sqlite:///{os.environ['TIAOJIE_INSTANCE']}/timing.db"
    app = create_app("test", SQLALCHEMY_DATABASE_URI=url, LOGIN_MAX_FAILURES=10**6,
                     LOGIN_ADDRESS_MAX_FAILURES=10**6)
    with app.app_context():
        db.create_all()
        db.session.add(User(username="realuser", display_name="r", role="buyer",
                            password_hash=generate_password_hash("right-password")))
        db.session.commit()
    client = app.test_client()
    for label, name in (("existing", lambda i: "realuser"), ("unknown", lambda i: f"nobody{i}")):
        times = []
        for i in range(N):
            start = time.perf_counter()
            status = client.post("/api/v1/auth/token", json={"username": name(i), "password": "wrong"}).status_code
            times.append((time.perf_counter() - start) * 1000)
            assert status == 401, status
        print(f"{label:9} n={N} median {statistics.median(times):6.1f} ms  min {min(times):6.1f}  max {max(times):6.1f}")


if __name__ == "__main__":
    main()
