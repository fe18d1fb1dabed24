"""GET /api/v1/openapi.json — an OpenAPI 3.1 description of this API, built from the code.

Every enum is read from the rule tables and models (workflows, app.cases, app.orders), so the
document follows the code when a state, trigger, reason or status is added. tests/api/
test_openapi.py checks it against the url_map and runs Schemathesis over it."""
from flask import current_app

import evidence_store
from workflows.cases import CLOSED_STATES
from workflows.cases import PHASES as CASE_PHASES
from workflows.fields import FIELDS, MAX_FEN, PENALTY_KINDS
from workflows.rules import COMPLAINT_TYPES, REMEDIES
from workflows.tasks import KINDS as TASK_KINDS
from workflows.tasks import SPEC as TASK_SPEC

from ...ids import MAX_ID
from ...auth.models import ROLES
from ...catalog.models import CATEGORIES, SERVICE_PROMISES
from ...catalog.services import MAX_PRICE_FEN, MAX_SHIP_HOURS
from ...cases.models import KINDS, PHASES
from ...cases.services import AFTER_SALES_KINDS
from ...catalog.models import CATEGORIES
from ...credit.queries import FIGURES as CREDIT_FIGURES
from ...evidence.models import EVIDENCE_KINDS, Evidence
from ...orders.models import ORDER_STATUSES
from ...overview.queries import GROUPS as ANALYSIS_GROUPS, MAX_RANGE_DAYS
from ...rules import get_rules
from ...shipping.models import DIRECTIONS
from . import MAX_PAGE, bp

OPENAPI_VERSION = "3.1.0"
MAX_PER_PAGE = 100  # page_args() in __init__.py
PARTIES = ("buyer", "seller", "mediator", "system")  # waiting_for
CONTRIBUTORS = ("buyer", "seller", "mediator")  # auth.policy.contributor_role
CHAT_ROLES = ("buyer", "seller")  # chat.services.post_order_message
SHIPMENT_STATUSES = ("in_transit", "signed")  # app.shipping.models check constraint
EVIDENCE_DESCRIPTION_MAX = Evidence.__table__.c.description.type.length


def _unique(values):
    return list(dict.fromkeys(values))


def action_names():
    """Every trigger of the case workflows that a person (not only the system) may fire."""
    return _unique(tr.trigger for phase in CASE_PHASES.values() for tr in phase.spec.transitions
                   if any(role != "system" for role in tr.roles))


def case_states():
    return _unique([s.name for phase in CASE_PHASES.values() for s in phase.spec.states] + list(CLOSED_STATES))


def timeout_triggers():
    return _unique(s.on_timeout for phase in CASE_PHASES.values() for s in phase.spec.states if s.on_timeout)


def task_states():
    return [s.name for s in TASK_SPEC.states]


def task_parties():
    return _unique(s.waiting_for for s in TASK_SPEC.states if isinstance(s.waiting_for, str))


def task_timeouts():
    return _unique(s.on_timeout for s in TASK_SPEC.states if s.on_timeout)


def reason_codes(rules):
    return _unique(code for codes in rules["reasons"].values() for code in codes)


# ---------------------------------------------------------------- schema helpers

def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def integer(minimum=None, maximum=None):
    schema = {"type": "integer"}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    return schema


def nullable_integer():
    return {"type": ["integer", "null"]}


def an_id():
    """An id a client sends: the int converter and the services refuse anything past MAX_ID."""
    return integer(1, MAX_ID)


def nullable_id():
    return {**an_id(), "type": ["integer", "null"]}


def string(enum=None, max_length=None, nullable=False):
    schema = {"type": ["string", "null"] if nullable else "string"}
    if enum is not None:
        schema["enum"] = list(enum) + ([None] if nullable else [])
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


NO_NUL = "^[^\\x00]*$"  # json_body refuses NUL anywhere in a body (PostgreSQL text cannot hold it)
NOT_BLANK = "^[^\\x00]*[^\\x00\\s][^\\x00]*$"  # …and a message must say something once stripped


def text(max_length=None, min_length=None, pattern=NO_NUL):
    """Free text a client sends."""
    schema = {"type": "string", "pattern": pattern}
    if min_length is not None:
        schema["minLength"] = min_length
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


def datetime_(nullable=False):
    return {"type": ["string", "null"] if nullable else "string", "format": "date-time"}


def obj(properties, required=None, closed=True):
    """An object; response shapes list every key (required) and no others."""
    schema = {"type": "object", "properties": properties,
              "required": list(properties) if required is None else list(required)}
    if closed:
        schema["additionalProperties"] = False
    return schema


def page_of(item):
    return obj({"items": {"type": "array", "items": ref(item)}, "page": integer(1),
                "per_page": integer(1, MAX_PER_PAGE), "total": integer(0)})


def field_schema(name):
    """The JSON schema of one action field of workflows/fields.py."""
    kind, _required, choices, max_length = FIELDS[name]
    if kind is bool:
        return {"type": "boolean"}
    if kind is int:
        return integer(0, MAX_FEN)
    if kind is list:  # penalties
        return {"type": "array", "maxItems": max_length, "items": ref("Penalty")}
    return string(choices, max_length) if choices else text(max_length)


# ---------------------------------------------------------------- responses and parameters

def json_content(schema):
    return {"application/json": {"schema": schema}}


ERROR_TEXT = {
    400: "Malformed request: the body is not a JSON object",
    401: "Not authenticated: a valid bearer token is required",
    403: "Not allowed for this user (e.g. an admin reads a case but does not take part in it)",
    404: "Not found, or not visible to this user",
    409: "The action is not available in the case's current state (details.available_actions), "
         "or a concurrent change won",
    413: "The request body or the upload is too large",
    415: "Upload type not accepted (details.accepted lists the accepted types)",
    416: "The requested byte range is not satisfiable",
    422: "Invalid field values (details per field)",
    429: "Too many failed logins; try again later",
    503: "The server cannot do this now (a report needs a CJK font installed)",
}


def error_responses(*statuses):
    return {str(status): {"description": ERROR_TEXT[status], "content": json_content(ref("Error"))}
            for status in statuses}


def responses(ok_status, ok_description, ok_schema, *errors):
    out = {str(ok_status): {"description": ok_description}}
    if ok_schema is not None:
        out[str(ok_status)]["content"] = json_content(ok_schema)
    out.update(error_responses(*errors))
    return out


def path_id(name, what):
    return {"name": name, "in": "path", "required": True, "description": f"The {what}'s id",
            "schema": an_id()}


PAGING = [
    {"name": "page", "in": "query", "required": False, "schema": {**integer(1, MAX_PAGE), "default": 1}},
    {"name": "per_page", "in": "query", "required": False,
     "schema": {**integer(1, MAX_PER_PAGE), "default": 20}},
]


def operation(operation_id, summary, responses_, *, parameters=None, body=None, body_required=True,
              secured=True, tags=(), body_media_type="application/json"):
    op = {"operationId": operation_id, "summary": summary, "tags": list(tags), "responses": responses_}
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = {"required": body_required, "content": {body_media_type: {"schema": body}}}
    if not secured:
        op["security"] = []
    return op


# ---------------------------------------------------------------- the document

def components(rules):
    roles = list(ROLES) + ["system"]
    message_max = current_app.config["MESSAGE_MAX_CHARS"]
    actions = action_names()
    action_fields = {n: field_schema(n) for n in FIELDS} | {"expected_version": {
        **integer(1), "description": "The case version the client saw (or If-Match); 409 stale if it moved on"}}
    schemas = {
        "Error": obj({"error": obj({"code": string(), "message": string(), "details": {"type": "object"}})}),
        "OrderItem": obj({
            "product_id": integer(1), "title": string(), "category": string(),
            "unit_price_fen": integer(0), "quantity": integer(1), "ship_within_hours": integer(0),
            "service_promises": {"type": "array", "items": string()}}),
        "Shipment": obj({
            "id": integer(1), "direction": string(DIRECTIONS), "carrier": string(), "tracking_no": string(),
            "status": string(SHIPMENT_STATUSES), "shipped_at": datetime_(), "signed_at": datetime_(True)}),
        "Order": obj({
            "id": integer(1), "number": string(), "status": string(ORDER_STATUSES),
            "buyer_id": integer(1), "shop_id": integer(1),
            "items": {"type": "array", "items": ref("OrderItem")},
            "total_fen": integer(0), "paid_fen": integer(0), "refunded_fen": integer(0),
            "released_fen": integer(0), "escrow_fen": integer(0), "refundable_fen": integer(0),
            "late_compensation_fen": integer(0),
            "shipments": {"type": "array", "items": ref("Shipment")},
            "open_case_id": nullable_integer(), "is_frozen": {"type": "boolean"},
            "created_at": datetime_(), "paid_at": datetime_(True), "ship_by": datetime_(True),
            "shipped_at": datetime_(True), "delivered_at": datetime_(True), "completed_at": datetime_(True),
            "closed_at": datetime_(True), "auto_confirm_at": datetime_(True)}),
        "AvailableAction": obj({
            "name": string(actions),
            "fields": {"type": "array", "items": string(list(FIELDS))}}),
        "Penalty": obj({
            "kind": string(PENALTY_KINDS), "listing_id": integer(1), "points": integer(1), "days": integer(1)},
            required=("kind",), closed=False),
        "Remedy": obj({
            "type": string(REMEDIES), "amount_fen": integer(0), "findings": string(nullable=True),
            "rule": string(nullable=True), "decided_by": nullable_integer(), "final": {"type": "boolean"},
            "penalties": {"type": "array", "items": ref("Penalty")}, "buyer_malicious": {"type": "boolean"}}),
        "BuyerFlag": obj({"flagged": {"type": "boolean"}, "reason": text(1000, 1, NOT_BLANK)}),
        "CreditFigures": obj({name: integer(0) for name in CREDIT_FIGURES}),
        "FlagEvent": obj({
            "action": string(("flag", "unflag")), "source": string(("admin", "ruling", "threshold"), nullable=True),
            "actor_id": nullable_integer(), "reason": string(), "case_id": nullable_integer(),
            "at": datetime_()}),
        "BuyerCredit": obj({
            "buyer_id": integer(1), "flagged": {"type": "boolean"}, "window_days": integer(1),
            "all_time": ref("CreditFigures"), "window": ref("CreditFigures"),
            "flag_history": {"type": "array", "items": ref("FlagEvent")}}),
        "LedgerLine": obj({"account": string(), "amount_fen": integer()}),
        "LedgerEntry": obj({
            "id": integer(1), "kind": string(), "amount_fen": integer(1), "memo": string(),
            "created_at": datetime_(), "lines": {"type": "array", "items": ref("LedgerLine")}}),
        "Execution": obj({
            "id": integer(1), "kind": string(TASK_KINDS), "state": string(task_states()),
            "amount_fen": integer(0), "paid_by": string(nullable=True), "recovered_fen": integer(0),
            "owed_fen": integer(0), "detail": {"type": "object"}, "attempts": integer(0),
            "last_error": string(nullable=True), "waiting_for": string(task_parties(), nullable=True),
            "due_at": datetime_(True), "on_timeout": string(task_timeouts(), nullable=True),
            "ledger_entries": {"type": "array", "items": ref("LedgerEntry")}}),
        "Case": obj({
            "id": integer(1), "number": string(), "kind": string(KINDS),
            "reason": string(reason_codes(rules), nullable=True),
            "complaint_type": string(COMPLAINT_TYPES, nullable=True), "description": string(),
            "item_ids": {"type": "array", "items": integer(1),
                         "description": "the order items the request is about; empty: the whole order"},
            "return_address": {"oneOf": [ref("ReturnAddress"), {"type": "null"}]},
            "phase": string(PHASES), "state": string(case_states()),
            "amount_fen": integer(0), "offer_fen": nullable_integer(),
            "order_id": nullable_integer(), "listing_id": nullable_integer(),
            "buyer_id": integer(1), "shop_id": integer(1), "mediator_id": nullable_integer(),
            "due_at": datetime_(True), "on_timeout": string(timeout_triggers(), nullable=True),
            "waiting_for": string(PARTIES, nullable=True),
            "available_actions": {"type": "array", "items": ref("AvailableAction")},
            "remedy": {"oneOf": [ref("Remedy"), {"type": "null"}]},
            "executions": {"type": "array", "items": ref("Execution")},
            "buyer_accepted_at": datetime_(True), "seller_accepted_at": datetime_(True),
            "created_at": datetime_(), "updated_at": datetime_(), "closed_at": datetime_(True),
            "version": integer(1)}),
        "ReturnAddress": obj({"id": integer(1), "contact": string(), "phone": string(), "address": string()}),
        "Event": obj({
            "id": integer(1), "seq": integer(1), "actor_id": nullable_integer(), "actor_role": string(roles),
            "trigger": string(), "from_phase": string(PHASES, nullable=True),
            "from_state": string(case_states(), nullable=True), "to_phase": string(PHASES),
            "to_state": string(case_states()), "payload": {"type": "object"},
            "amount_fen": {**nullable_integer(), "description": "the amount the step names (asked, offered, "
                                                                "proposed, ruled), in fen"},
            "texts": {"type": "object", "additionalProperties": {"type": "string"},
                      "description": "what the actor wrote with the step, by field: description, reason, note, "
                                     "statement, findings, rule"},
            "evidence_ids": {"type": "array", "items": integer(1),
                             "description": "evidence the actor uploaded with this step (visible to the parties "
                                            "and the mediator)"},
            "created_at": datetime_(),
            "prev_hash": string(), "hash": string()}),
        "Message": obj({
            "id": integer(1), "author_id": nullable_integer(), "author_role": string(roles), "body": string(),
            "event_id": nullable_integer(), "created_at": datetime_(),
            "evidence_ids": {"type": "array", "items": integer(1)}}),
        "OrderMessage": obj({
            "id": integer(1), "order_id": integer(1), "author_id": integer(1), "author_role": string(CHAT_ROLES),
            "body": string(), "created_at": datetime_()}),
        "Evidence": obj({
            "id": integer(1), "case_id": integer(1), "uploader_id": integer(1),
            "uploader_role": string(CONTRIBUTORS), "kind": string(EVIDENCE_KINDS),
            "description": string(max_length=EVIDENCE_DESCRIPTION_MAX),
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "size": integer(1),
            "mime": string(evidence_store.ALLOWED_MIMES), "filename": string(max_length=255),
            "has_thumbnail": {"type": "boolean"}, "created_at": datetime_()}),
        "NewMessage": obj({
            "body": text(message_max, 1, NOT_BLANK),
            "evidence_ids": {"type": "array", "items": an_id()}}, required=("body",)),
        "NewOrderMessage": obj({"body": text(message_max, 1, NOT_BLANK)}),
        "NewEvidence": obj({
            "file": {"type": "string", "contentMediaType": "application/octet-stream",
                     "description": "The file; its type is sniffed from the content: "
                                    + ", ".join(evidence_store.ALLOWED_MIMES)},
            "kind": string(EVIDENCE_KINDS),
            "description": text(EVIDENCE_DESCRIPTION_MAX)}, required=("file", "kind"), closed=False),
        "Audit": obj({"valid": {"type": "boolean"}, "events": integer(0), "anchors": integer(0),
                      "problems": {"type": "array", "items": {"type": "string"}}}),
        "Token": obj({"token": string(), "user": obj({"id": integer(1), "username": string(),
                                                      "role": string(ROLES)})}),
        "Credentials": obj({"username": text(min_length=1), "password": text(min_length=1)}),
        "NewCase": obj({
            "kind": string(AFTER_SALES_KINDS), "reason": string(reason_codes(rules)),
            "amount_fen": field_schema("amount_fen"), "description": field_schema("description"),
            "item_ids": {"type": "array", "items": an_id(),
                         "description": "the order items the request is about (default: the whole order)"}},
            required=("kind", "reason", "amount_fen")),
        "NewComplaint": {**obj({
            "order_id": nullable_id(), "listing_id": nullable_id(),
            "type": field_schema("type"), "description": field_schema("description")}, required=("type",)),
            "anyOf": [{"required": [key], "properties": {key: an_id()}} for key in ("order_id", "listing_id")],
            "description": "about an order, a listing, or a listing of that order"},
        "ActionFields": obj(action_fields, required=()),
        "NewOrder": obj({
            "items": {"type": "array", "minItems": 1, "maxItems": 20, "items": obj({
                "listing_id": an_id(), "quantity": integer(1, 99)})},
            "address": text(255, 1, NOT_BLANK)}),
        "NewListing": obj({
            "title": text(200, 1, NOT_BLANK), "category": string(CATEGORIES),
            "price_fen": integer(1, MAX_PRICE_FEN), "ship_within_hours": integer(1, MAX_SHIP_HOURS),
            "service_promises": {"type": "array", "items": string(SERVICE_PROMISES)}},
            required=("title", "category", "price_fen")),
        "Listing": obj({
            "id": integer(1), "shop_id": integer(1), "title": string(), "category": string(CATEGORIES),
            "price_fen": integer(1), "ship_within_hours": integer(1),
            "service_promises": {"type": "array", "items": string(SERVICE_PROMISES)},
            "status": string(("on_sale", "taken_down")), "created_at": datetime_()}),
        "OrderPage": page_of("Order"),
        "CasePage": page_of("Case"),
        "EventPage": page_of("Event"),
        "MessagePage": page_of("Message"),
        "OrderMessagePage": page_of("OrderMessage"),
        "EvidencePage": page_of("Evidence"),
        "ServiceFigures": obj({
            **{name: integer(0) for name in ("paid_orders", "complaints", "refunds", "dispute_refunds",
                                              "timeout_refunds", "agreed_refunds", "breaches", "responses",
                                              "ratings")},
            **{name: {"type": ["number", "null"], "minimum": 0, "description": "per paid order; null without any"}
               for name in ("dispute_refund_rate", "complaint_rate", "refund_rate", "timeout_refund_rate",
                            "agreed_refund_rate", "breach_rate")},
            "rating_average": {"type": ["number", "null"], "minimum": 1, "maximum": 5},
            "median_response_under_minutes": {
                "type": ["integer", "null"], "description": "the median first response is under this many minutes "
                                                            "(null: no response, or slower than the last bound)"},
            "median_response_over_minutes": {"type": ["integer", "null"],
                                              "description": "…and at least this many"}}),
        "ShopMetrics": obj({
            "shop_id": integer(1), "category": string(),
            "window": obj({"days": integer(1), "first_day": {"type": "string", "format": "date"},
                           "last_day": {"type": "string", "format": "date"}}),
            "figures": ref("ServiceFigures"), "category_average": ref("ServiceFigures")}),
        "NewRating": obj({"score": integer(1, 5), "comment": text(1000)}, required=("score",)),
        "Rating": obj({"case_id": integer(1), "shop_id": integer(1), "score": integer(1, 5), "comment": string(),
                       "created_at": datetime_()}),
        "ReasonAnalysis": obj({
            "date_from": {"type": "string", "format": "date"}, "date_to": {"type": "string", "format": "date"},
            "group": string(ANALYSIS_GROUPS), "category": string(CATEGORIES, nullable=True), "shop": nullable_id(),
            "periods": {"type": "array", "items": {"type": "string", "format": "date"},
                        "description": "the first day of every week (Monday) or month the period touches"},
            "total": integer(0),
            "rows": {"type": "array", "items": obj({
                "dimension": string(("reason", "complaint_type")), "code": string(),
                "category": {"type": ["string", "null"]}, "period": {"type": "string", "format": "date"},
                "cases": integer(1)})}}),
    }
    return {"schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A token from POST /auth/token"}}}


def evidence_content_responses():
    file_headers = {
        "X-Content-Type-Options": {"schema": {"const": "nosniff"}},
        "Content-Security-Policy": {"schema": {"type": "string"}},
        "ETag": {"schema": {"type": "string"}},
    }
    content = {mime: {} for mime in evidence_store.ALLOWED_MIMES}
    out = {
        "200": {"description": "The file's bytes, with the sniffed type", "headers": file_headers,
                "content": content},
        "206": {"description": "The requested byte range (Range header)", "headers": file_headers,
                "content": content},
        "304": {"description": "Not modified (If-None-Match matches the ETag)"},
    }
    out.update(error_responses(401, 404, 416))
    return out


def case_filters(rules):
    """The case list's filters (app.cases.queries.case_filter), for the list and the CSV export."""
    def query(name, schema, description=None):
        out = {"name": name, "in": "query", "required": False, "schema": schema}
        return {**out, "description": description} if description else out
    day = {"type": "string", "format": "date"}
    return [query("phase", string(PHASES)), query("state", string(case_states())), query("kind", string(KINDS)),
            query("reason", string(_unique([*reason_codes(rules), *COMPLAINT_TYPES])),
                  "an after-sales reason, or a complaint's type"),
            query("shop", an_id(), "a shop's id"), query("mediator", an_id(), "the assigned mediator's user id"),
            query("opened_from", day, "opened on or after this day (Asia/Shanghai)"),
            query("opened_to", day, "opened on or before this day (Asia/Shanghai)")]


def analysis_filters():
    """The reason analysis's filters (app.overview.queries.analysis_filter)."""
    day = {"type": "string", "format": "date"}
    return [{"name": name, "in": "query", "required": False, "schema": schema, "description": description}
            for name, schema, description in (
                ("date_from", day, "opened on or after this day; default: 83 days before date_to"),
                ("date_to", day, f"opened on or before this day; default: today; at most {MAX_RANGE_DAYS} days "
                                 "in all, date_from not after it"),
                ("category", string(CATEGORIES), "the goods' category"),
                ("shop", an_id(), "a shop's id"),
                ("group", {**string(ANALYSIS_GROUPS), "default": "week"}, "weeks (from Monday) or months"))]


def csv_responses():
    out = {"200": {"description": "The cases as CSV, one row per case after a header row",
                   "headers": {"Content-Disposition": {"schema": {"type": "string"},
                                                       "description": "attachment; filename=cases-<date>-<time>.csv"}},
                   "content": {"text/csv": {"schema": {"type": "string"}}}}}
    out.update(error_responses(401, 403, 422))
    return out


def paths(rules):
    order_id, case_id = path_id("order_id", "order"), path_id("case_id", "case")
    return {
        "/auth/token": {
            "post": operation(
                "createToken", "Exchange a username and password for a bearer token",
                responses(200, "A new bearer token", ref("Token"), 400, 401, 413, 422, 429),
                body=ref("Credentials"), secured=False, tags=["auth"]),
            "delete": operation(
                "revokeToken", "Revoke the bearer token of this request",
                responses(204, "Revoked", None, 401), tags=["auth"]),
        },
        "/orders": {
            "get": operation(
                "listOrders", "The caller's orders (buyer) or shop orders (seller), newest first",
                responses(200, "A page of orders", ref("OrderPage"), 401, 422),
                parameters=[*PAGING, {"name": "status", "in": "query", "required": False,
                                      "schema": string(ORDER_STATUSES)}], tags=["orders"]),
            "post": operation(
                "placeOrder", "A buyer orders listings of one shop (status created); 409 shop_not_selling while "
                              "the shop is restricted or blacklisted (penalties)",
                responses(201, "The new order", ref("Order"), 400, 401, 403, 404, 409, 413, 422),
                body=ref("NewOrder"), tags=["orders"]),
        },
        "/listings": {
            "post": operation(
                "publishListing", "A seller publishes a listing of their shop, on sale at once; 409 "
                                  "shop_not_selling while the shop is restricted or blacklisted (penalties)",
                responses(201, "The new listing", ref("Listing"), 400, 401, 403, 404, 409, 413, 422),
                body=ref("NewListing"), tags=["catalog"]),
        },
        "/orders/{order_id}": {
            "get": operation("getOrder", "One order", responses(200, "The order", ref("Order"), 401, 404),
                             parameters=[order_id], tags=["orders"]),
        },
        "/orders/{order_id}/cases": {
            "post": operation(
                "openCase", "An after-sales request (售后申请) by the order's buyer; starts in negotiation",
                responses(201, "The new case", ref("Case"), 400, 401, 404, 409, 413, 422),
                parameters=[order_id], body=ref("NewCase"), tags=["cases"]),
        },
        "/complaints": {
            "post": operation(
                "fileComplaint", "A complaint (投诉) by a buyer; the case starts in the complaint phase",
                responses(201, "The new case", ref("Case"), 400, 401, 404, 409, 413, 422),
                body=ref("NewComplaint"), tags=["cases"]),
        },
        "/cases": {
            "get": operation(
                "listCases", "The cases the caller may see, newest first",
                responses(200, "A page of cases", ref("CasePage"), 401, 422),
                parameters=[*case_filters(rules), *PAGING], tags=["cases"]),
        },
        "/cases/export.csv": {
            "get": operation(
                "exportCases", "The filtered cases as CSV (UTF-8 with BOM, labels in the requester's language, "
                               "times in Asia/Shanghai), newest first, streamed: mediators and admins only",
                csv_responses(), parameters=case_filters(rules), tags=["cases"]),
        },
        "/analysis/reasons": {
            "get": operation(
                "analyseReasons", "Cases opened in the period by after-sales reason and by complaint type, per "
                                  "category and week or month (days in Asia/Shanghai): mediators and admins only",
                responses(200, "The figures, one row per dimension, code, category and period",
                          ref("ReasonAnalysis"), 401, 403, 422),
                parameters=analysis_filters(), tags=["analysis"]),
        },
        "/cases/{case_id}": {
            "get": operation("getCase", "One case with the actions this caller may take now",
                             responses(200, "The case", ref("Case"), 401, 404),
                             parameters=[case_id], tags=["cases"]),
        },
        "/cases/{case_id}/actions/{name}": {
            "post": operation(
                "performAction", "Fire a workflow action on the case as the caller",
                responses(200, "The case after the action", ref("Case"), 400, 401, 404, 409, 413, 422),
                parameters=[case_id, {"name": "name", "in": "path", "required": True,
                                      "description": "A workflow trigger (see available_actions)",
                                      "schema": string(action_names())},
                            {"name": "If-Match", "in": "header", "required": False,
                             "description": 'The case version the client saw, e.g. "3"; 409 stale if it moved on',
                             "schema": {"type": "string"}}],
                body=ref("ActionFields"), body_required=False, tags=["cases"]),
        },
        "/cases/{case_id}/events": {
            "get": operation("listCaseEvents", "The case's audit trail, oldest first",
                             responses(200, "A page of events", ref("EventPage"), 401, 404, 422),
                             parameters=[case_id, *PAGING], tags=["cases"]),
        },
        "/cases/{case_id}/audit": {
            "get": operation("verifyCaseAudit", "Verify the case's hash-chained audit trail",
                             responses(200, "The verification", ref("Audit"), 401, 404),
                             parameters=[case_id], tags=["cases"]),
        },
        "/cases/{case_id}/report.pdf": {
            "get": operation(
                "getCaseReport", "The printable case report (PDF) as this caller may see the case; cached until "
                                 "the case changes",
                {"200": {"description": "The report", "content": {"application/pdf": {
                    "schema": {"type": "string", "contentMediaType": "application/pdf"}}}},
                 **error_responses(401, 404, 422, 503)},
                parameters=[case_id, {"name": "lang", "in": "query", "required": False,
                                      "description": "zh or en; default: the Accept-Language header, else zh",
                                      "schema": string(("zh", "en"))}],
                tags=["cases"]),
        },
        "/cases/{case_id}/messages": {
            "get": operation("listCaseMessages", "The case thread, oldest first",
                             responses(200, "A page of messages", ref("MessagePage"), 401, 404, 422),
                             parameters=[case_id, *PAGING], tags=["messages"]),
            "post": operation(
                "postCaseMessage", "Write in the case thread (parties and the mediator), optionally attaching "
                                   "evidence of this case",
                responses(201, "The new message", ref("Message"), 400, 401, 403, 404, 409, 413, 422),
                parameters=[case_id], body=ref("NewMessage"), tags=["messages"]),
        },
        "/cases/{case_id}/evidence": {
            "get": operation("listCaseEvidence", "The case's evidence, oldest first (parties and the mediator)",
                             responses(200, "A page of evidence", ref("EvidencePage"), 401, 403, 404, 422),
                             parameters=[case_id, *PAGING], tags=["evidence"]),
            "post": operation(
                "uploadEvidence", "Upload one evidence file to an open case (parties and the mediator)",
                responses(201, "The evidence record", ref("Evidence"), 401, 403, 404, 409, 413, 415, 422),
                parameters=[case_id], body=ref("NewEvidence"), body_media_type="multipart/form-data",
                tags=["evidence"]),
        },
        "/evidence/{evidence_id}/content": {
            "get": operation(
                "getEvidenceContent", "The stored file (images inline, anything else as an attachment), "
                                      "or its JPEG thumbnail",
                evidence_content_responses(),
                parameters=[path_id("evidence_id", "evidence"),
                            {"name": "thumbnail", "in": "query", "required": False,
                             "description": "1 for the image's JPEG thumbnail", "schema": {"type": "string"}}],
                tags=["evidence"]),
        },
        "/buyers/{buyer_id}/credit": {
            "get": operation(
                "getBuyerCredit", "A buyer's credit: requests, complaints, withdrawals, rulings against the buyer, "
                                  "malicious findings and ratings, over all time and the credit window, and the "
                                  "malicious-refund flag with its history (mediators who see a case of the buyer, "
                                  "admins)",
                responses(200, "The buyer's credit", ref("BuyerCredit"), 401, 403, 404),
                parameters=[path_id("buyer_id", "buyer")], tags=["credit"]),
        },
        "/buyers/{buyer_id}/flag": {
            "post": operation(
                "flagBuyer", "An admin sets (flagged: true) or clears (false) the buyer's malicious-refund flag, "
                             "with a reason kept in the admin audit log; 409 when the flag already is so",
                responses(200, "The buyer's credit after the change", ref("BuyerCredit"),
                          400, 401, 403, 404, 409, 413, 422),
                parameters=[path_id("buyer_id", "buyer")], body=ref("BuyerFlag"), tags=["credit"]),
        },
        "/orders/{order_id}/messages": {
            "get": operation("listOrderMessages", "The buyer–seller chat on the order, oldest first",
                             responses(200, "A page of messages", ref("OrderMessagePage"), 401, 404, 422),
                             parameters=[order_id, *PAGING], tags=["messages"]),
            "post": operation(
                "postOrderMessage", "Write in the order chat (the buyer and the seller only)",
                responses(201, "The new message", ref("OrderMessage"), 400, 401, 403, 404, 413, 422),
                parameters=[order_id], body=ref("NewOrderMessage"), tags=["messages"]),
        },
        "/shops/{shop_id}/metrics": {
            "get": operation(
                "getShopMetrics", "The shop's service metrics over the rolling window beside its category's "
                                  "average (the shop's own sellers, mediators and admins)",
                responses(200, "The figures", ref("ShopMetrics"), 401, 404),
                parameters=[path_id("shop_id", "shop")], tags=["metrics"]),
        },
        "/cases/{case_id}/rating": {
            "post": operation(
                "rateCase", "The buyer rates how the closed case was handled (售后服务评价), once",
                responses(201, "The rating", ref("Rating"), 400, 401, 403, 404, 409, 413, 422),
                parameters=[case_id], body=ref("NewRating"), tags=["metrics"]),
        },
    }


# ---------------------------------------------------------------- links: how one answer leads to the next call

ORDER_OPERATIONS = ("getOrder", "openCase", "listOrderMessages", "postOrderMessage")
CASE_OPERATIONS = ("getCase", "performAction", "listCaseEvents", "verifyCaseAudit", "listCaseMessages",
                   "postCaseMessage", "listCaseEvidence", "uploadEvidence")


def _links(operation_ids, name, pointer):
    out = {}
    for op in operation_ids:
        parameters = {name: f"$response.body#{pointer}"}
        if op == "performAction":  # an action the caller has now
            parameters["name"] = f"$response.body#{pointer.rsplit('/', 1)[0]}/available_actions/0/name"
        out[op] = {"operationId": op, "parameters": parameters}
    return out


def links():
    """{(operationId, status): OpenAPI links} — the ids an answer carries, for clients and for Schemathesis'
    stateful runs (orders → order → new case → its actions, events, messages, evidence → a file)."""
    return {
        ("listOrders", "200"): _links(ORDER_OPERATIONS, "order_id", "/items/0/id"),
        ("getOrder", "200"): _links(ORDER_OPERATIONS[1:], "order_id", "/id"),
        ("openCase", "201"): _links(CASE_OPERATIONS, "case_id", "/id"),
        ("fileComplaint", "201"): _links(CASE_OPERATIONS, "case_id", "/id"),
        ("listCases", "200"): _links(CASE_OPERATIONS, "case_id", "/items/0/id"),
        ("getCase", "200"): _links(CASE_OPERATIONS[1:], "case_id", "/id"),
        ("performAction", "200"): _links(CASE_OPERATIONS, "case_id", "/id"),
        ("uploadEvidence", "201"): _links(["getEvidenceContent"], "evidence_id", "/id"),
        ("listCaseEvidence", "200"): _links(["getEvidenceContent"], "evidence_id", "/items/0/id"),
    }


def _with_links(paths_):
    by_id = {op["operationId"]: op for item in paths_.values() for op in item.values()}
    for (operation_id, status), links_ in links().items():
        by_id[operation_id]["responses"][status]["links"] = links_
    return paths_


def document():
    rules = get_rules()
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Tiaojie (调解) API", "version": "1",
                 "description": "Dispute and after-sales cases. Money is integer fen; times are ISO 8601 "
                                "with offset. Every error is {\"error\": {\"code\", \"message\", \"details\"}}."},
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "tags": [{"name": n} for n in ("auth", "orders", "cases", "messages", "evidence")],
        "paths": _with_links(paths(rules)),
        "components": components(rules),
    }


@bp.get("/openapi.json")
def openapi_document():
    return document()
