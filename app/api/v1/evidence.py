from flask import g, request

from ...auth.policy import ensure_contributor
from ...cases.queries import get_case
from ...chat.queries import order_messages
from ...chat.services import post_case_message, post_order_message
from ...evidence.download import send_evidence
from ...evidence.queries import evidence_for, get_evidence
from ...evidence.upload import receive_evidence
from ...orders.queries import get_order
from . import bp, json_body, page_args, page_body, token_required
from .serializers import evidence_json, message_json, order_message_json


@bp.post("/cases/<int:case_id>/evidence")
@token_required
def upload_evidence(case_id):
    evidence = receive_evidence(request, get_case(g.api_user, case_id), g.api_user)
    return evidence_json(evidence), 201


@bp.get("/cases/<int:case_id>/evidence")
@token_required
def list_evidence(case_id):
    case = get_case(g.api_user, case_id)
    ensure_contributor(g.api_user, case)
    page, per_page = page_args()
    rows, total = evidence_for(case, page=page, per_page=per_page)
    return page_body([evidence_json(e) for e in rows], page, per_page, total)


@bp.get("/evidence/<int:evidence_id>/content")
@token_required
def evidence_content(evidence_id):
    return send_evidence(get_evidence(g.api_user, evidence_id), thumbnail=request.args.get("thumbnail") == "1")


@bp.post("/cases/<int:case_id>/messages")
@token_required
def create_message(case_id):
    data = json_body("body", "evidence_ids")
    get_case(g.api_user, case_id)
    message = post_case_message(case_id, actor=g.api_user, body=data.get("body"),
                                evidence_ids=data.get("evidence_ids", []))
    return message_json(message), 201


@bp.get("/orders/<int:order_id>/messages")
@token_required
def list_order_messages(order_id):
    order = get_order(g.api_user, order_id)
    page, per_page = page_args()
    rows, total = order_messages(order.id, page=page, per_page=per_page)
    return page_body([order_message_json(m) for m in rows], page, per_page, total)


@bp.post("/orders/<int:order_id>/messages")
@token_required
def create_order_message(order_id):
    data = json_body("body")
    get_order(g.api_user, order_id)
    return order_message_json(post_order_message(order_id, actor=g.api_user, body=data.get("body"))), 201
