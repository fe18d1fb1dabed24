"""Model → JSON, shaped as API.md says."""
from ...timeutil import isoformat


def shipment_json(s):
    return {"id": s.id, "direction": s.direction, "carrier": s.carrier, "tracking_no": s.tracking_no,
            "status": s.status, "shipped_at": isoformat(s.shipped_at), "signed_at": isoformat(s.signed_at)}


def order_json(order, money, open_case_id=None):
    return {
        "id": order.id, "number": order.number, "status": order.status,
        "buyer_id": order.buyer_id, "shop_id": order.shop_id,
        "items": [{"product_id": i.product_id, "title": i.title, "category": i.category,
                   "unit_price_fen": i.unit_price_fen, "quantity": i.quantity,
                   "ship_within_hours": i.ship_within_hours, "service_promises": i.service_promises}
                  for i in order.items],
        "total_fen": order.total_fen, **money,
        "shipments": [shipment_json(s) for s in order.shipments],
        "open_case_id": open_case_id, "is_frozen": order.is_frozen,
        "created_at": isoformat(order.created_at), "paid_at": isoformat(order.paid_at),
        "ship_by": isoformat(order.ship_by), "shipped_at": isoformat(order.shipped_at),
        "delivered_at": isoformat(order.delivered_at), "completed_at": isoformat(order.completed_at),
        "closed_at": isoformat(order.closed_at), "auto_confirm_at": isoformat(order.auto_confirm_at),
    }


def entry_json(entry):
    return {"id": entry.id, "kind": entry.kind, "amount_fen": entry.amount_fen, "memo": entry.memo,
            "created_at": isoformat(entry.created_at),
            "lines": [{"account": line.account.code, "amount_fen": line.amount_fen} for line in entry.lines]}


def remedy_json(case):
    if case.remedy_type is None:
        return None
    return {"type": case.remedy_type, "amount_fen": case.remedy_amount_fen, "findings": case.findings,
            "rule": case.rule_applied, "decided_by": case.decided_by_id, "final": case.remedy_final,
            "penalties": case.penalties or [], "buyer_malicious": case.buyer_malicious}


def execution_json(task, entries):
    return {"id": task.id, "kind": task.kind, "state": task.state, "amount_fen": task.amount_fen,
            "paid_by": task.paid_by, "recovered_fen": task.recovered_fen, "owed_fen": task.owed_fen,
            "detail": task.detail, "attempts": task.attempts, "last_error": task.last_error,
            "waiting_for": task.waiting_for, "due_at": isoformat(task.due_at), "on_timeout": task.on_timeout,
            "ledger_entries": [entry_json(e) for e in entries if e.task_id == task.id]}


def case_json(case, actions, entries, tasks=()):
    return {
        "id": case.id, "number": case.number, "kind": case.kind, "reason": case.reason,
        "complaint_type": case.complaint_type, "description": case.description, "item_ids": case.item_ids or [],
        "return_address": case.return_address,
        "phase": case.phase, "state": case.state, "amount_fen": case.amount_fen, "offer_fen": case.offer_fen,
        "order_id": case.order_id, "listing_id": case.listing_id, "buyer_id": case.buyer_id,
        "shop_id": case.shop_id, "mediator_id": case.mediator_id,
        "due_at": isoformat(case.due_at), "on_timeout": case.on_timeout, "waiting_for": case.waiting_for,
        "available_actions": [{"name": name, "fields": list(fields)} for name, fields in actions],
        "remedy": remedy_json(case), "executions": [execution_json(t, entries) for t in tasks],
        "buyer_accepted_at": isoformat(case.buyer_accepted_at),
        "seller_accepted_at": isoformat(case.seller_accepted_at),
        "created_at": isoformat(case.created_at), "updated_at": isoformat(case.updated_at),
        "closed_at": isoformat(case.closed_at), "version": case.version,
    }


def event_json(event, texts=None, evidence_ids=()):
    """An audit event; `texts` are the words its actor wrote with it ({field: text}: reason, note, statement,
    description, findings, rule) and `evidence_ids` the evidence that actor uploaded with it."""
    amount = (event.payload or {}).get("amount_fen")
    return {"id": event.id, "seq": event.seq, "actor_id": event.actor_id, "actor_role": event.actor_role,
            "trigger": event.trigger, "from_phase": event.from_phase, "from_state": event.from_state,
            "to_phase": event.to_phase, "to_state": event.to_state, "payload": event.payload,
            "amount_fen": amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
            "texts": texts or {}, "evidence_ids": list(evidence_ids),
            "created_at": isoformat(event.created_at), "prev_hash": event.prev_hash, "hash": event.hash}


def message_json(message):
    return {"id": message.id, "author_id": message.author_id, "author_role": message.author_role,
            "body": message.body, "event_id": message.event_id, "created_at": isoformat(message.created_at),
            "evidence_ids": [e.id for e in message.attachments]}


def evidence_json(evidence):
    return {"id": evidence.id, "case_id": evidence.case_id, "uploader_id": evidence.uploader_id,
            "uploader_role": evidence.uploader_role, "kind": evidence.kind, "description": evidence.description,
            "sha256": evidence.sha256, "size": evidence.size, "mime": evidence.mime, "filename": evidence.filename,
            "has_thumbnail": evidence.thumb_sha256 is not None, "created_at": isoformat(evidence.created_at)}


def order_message_json(message):
    return {"id": message.id, "order_id": message.order_id, "author_id": message.author_id,
            "author_role": message.author_role, "body": message.body, "created_at": isoformat(message.created_at)}
