import json
from collections import defaultdict
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import CHECKS as REG, load_all_checks
from schemathesis.core.failures import FailureGroup
from app.auth.models import User
from app.auth.services import issue_token
from app.extensions import db
from .test_openapi import _world, _strategy, DOCUMENT

load_all_checks()
ALL = list(REG.get_all())

@pytest.mark.parametrize("role", ["buyer", "mediator"])
def test_explore(app, ctx, role):
    ids = _world(app)
    user = db.session.get(User, ids[role])
    headers = {"Authorization": f"Bearer {issue_token(user)}"}
    client = app.test_client()
    available = {cid: [a["name"] for a in client.get(f"/api/v1/cases/{cid}", headers=headers).get_json().get(
        "available_actions", [])] for cid in ids["cases"]}
    schema = schemathesis.openapi.from_wsgi(DOCUMENT, app)
    found = defaultdict(dict)
    for operation in sorted([r.ok() for r in schema.get_all_operations()], key=lambda op: "/actions/" in op.path):
        @settings(max_examples=25, derandomize=True, database=None, deadline=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=_strategy(operation, ids, available))
        def run(case):
            own = {"Authorization": f"Bearer {issue_token(user)}"} if operation.method.upper() == "DELETE" else headers
            try:
                case.call_and_validate(headers=own, checks=ALL)
            except FailureGroup as g:
                for f in g.exceptions:
                    key = f"{type(f).__name__}: {f.title}"
                    found[operation.label].setdefault(key, str(f)[:600] + "\n" + case.as_curl_command(headers=own)[:900])
        run()
        db.session.remove()
    with open(f"/tmp/static-explore-{role}.txt", "w") as fh:
        for op, fs in found.items():
            for k, v in fs.items():
                fh.write(f"=== {op} :: {k}\n{v}\n\n")
