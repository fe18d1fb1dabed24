import re

from flask import g, make_response, request

from ...auth.policy import contributor_role
from ...cases.audit import check_case
from ...cases.queries import (actions_for, case_filter, case_ledger, case_tasks, cases_for, event_extras, events_for,
                              get_case, messages_for)
from ...evidence.queries import evidence_for
from ...cases.services import file_complaint, open_case, perform_action
from ...errors import Forbidden, Invalid, Stale
from ...reports.case_csv import csv_response
from . import bp, json_body, page_args, page_body, token_required
from .serializers import case_json, event_json, message_json

MAX_VERSION = 2**31 - 1
EXPORTERS = ("mediator", "admin")


def _case_body(case):
    return case_json(case, actions_for(case, g.api_user), case_ledger([case.id])[case.id],
                     case_tasks([case.id])[case.id])


def _case_response(case, status=200):
    """The case with its version as the ETag, for a later If-Match."""
    response = make_response(_case_body(case), status)
    response.set_etag(str(case.version))
    return response


def _expected_version(data):
    """The version the client saw: `expected_version` in the body and/or If-Match: "<version>" (they
    must agree); None if neither. If-Match: * asks for no check."""
    body = data.pop("expected_version", None)
    if body is not None and (isinstance(body, bool) or not isinstance(body, int) or not 0 < body <= MAX_VERSION):
        raise Invalid("Invalid expected_version", {"expected_version": "must be a positive integer"})
    header = (request.headers.get("If-Match") or "").strip()
    if not header or header == "*":
        return body
    match = re.fullmatch(r'"([0-9]{1,10})"', header)
    if match is None:
        raise Invalid("Invalid If-Match header", {"If-Match": 'one case version in quotes, e.g. "3"'})
    if body is not None and body != int(match.group(1)):
        raise Invalid("If-Match and expected_version differ", {"expected_version": "differs from If-Match"})
    return int(match.group(1))


@bp.post("/orders/<int:order_id>/cases")
@token_required
def create_case(order_id):
    data = json_body("kind", "reason", "amount_fen", "description", "item_ids")
    case = open_case(order_id, actor=g.api_user, kind=data.get("kind"), reason=data.get("reason"),
                     amount_fen=data.get("amount_fen"), description=data.get("description") or "",
                     item_ids=data.get("item_ids"))
    return _case_response(get_case(g.api_user, case.id), 201)


@bp.post("/complaints")
@token_required
def create_complaint():
    data = json_body("order_id", "listing_id", "type", "description")
    case = file_complaint(actor=g.api_user, order_id=data.get("order_id"), listing_id=data.get("listing_id"),
                          type=data.get("type"), description=data.get("description") or "")
    return _case_response(get_case(g.api_user, case.id), 201)


@bp.get("/cases")
@token_required
def list_cases():
    page, per_page = page_args()
    cases, total = cases_for(g.api_user, case_filter(request.args), page=page, per_page=per_page)
    ids = [c.id for c in cases]
    ledger, tasks = case_ledger(ids), case_tasks(ids)
    items = [case_json(c, actions_for(c, g.api_user), ledger[c.id], tasks[c.id]) for c in cases]
    return page_body(items, page, per_page, total)


@bp.get("/cases/export.csv")
@token_required
def export_cases():
    """The filtered cases as CSV (UTF-8 with BOM), streamed: mediators and admins only."""
    if g.api_user.role not in EXPORTERS:
        raise Forbidden("Only mediators and admins export cases")
    return csv_response(g.api_user, case_filter(request.args))


@bp.get("/cases/<int:case_id>")
@token_required
def show_case(case_id):
    return _case_response(get_case(g.api_user, case_id))


@bp.post("/cases/<int:case_id>/actions/<name>")
@token_required
def case_action(case_id, name):
    data = json_body(optional=True)
    get_case(g.api_user, case_id)
    expected = _expected_version(data)
    try:
        perform_action(case_id, name, actor=g.api_user, data=data, expected_version=expected)
    except Stale as err:  # answer with the case as it is now, so the client can decide again
        err.details["case"] = _case_body(get_case(g.api_user, case_id))
        raise
    return _case_response(get_case(g.api_user, case_id))


@bp.get("/cases/<int:case_id>/events")
@token_required
def case_events(case_id):
    case = get_case(g.api_user, case_id)
    page, per_page = page_args()
    events, total = events_for(case, page=page, per_page=per_page)
    visible = evidence_for(case, per_page=1000)[0] if contributor_role(g.api_user, case) else []
    extras = event_extras(case, visible)
    return page_body([event_json(e, *extras.get(e.id, ({}, ()))) for e in events], page, per_page, total)


@bp.get("/cases/<int:case_id>/audit")
@token_required
def case_audit(case_id):
    result = check_case(get_case(g.api_user, case_id))
    return {"valid": result.valid, "events": result.events, "anchors": result.anchors,
            "problems": list(result.problems)}


@bp.get("/cases/<int:case_id>/messages")
@token_required
def case_messages(case_id):
    case = get_case(g.api_user, case_id)
    page, per_page = page_args()
    messages, total = messages_for(case, page=page, per_page=per_page)
    return page_body([message_json(m) for m in messages], page, per_page, total)
