"""Human labels for codes (statuses, categories, roles …), translated by Flask-Babel."""
from flask_babel import lazy_gettext as _l

LABELS = {
    "order_status": {
        "created": _l("Awaiting payment"), "paid": _l("Paid, awaiting shipment"), "shipped": _l("Shipped"),
        "delivered": _l("Delivered"), "completed": _l("Completed"), "closed": _l("Closed"),
    },
    "category": {
        "apparel": _l("Apparel"), "electronics": _l("Electronics"), "home": _l("Home"), "food": _l("Food"),
        "beauty": _l("Beauty"), "books": _l("Books"), "sports": _l("Sports"), "toys": _l("Toys"),
    },
    "role": {
        "buyer": _l("Buyer"), "seller": _l("Seller"), "mediator": _l("Mediator"), "admin": _l("Admin"),
        "system": _l("System"),
    },
    "promise": {
        "no_reason_7d": _l("7-day no-reason return"), "ship_48h": _l("Ships within 48 h"),
        "genuine_guarantee": _l("Genuine guarantee"), "free_return_shipping": _l("Free return shipping"),
    },
    "entry_kind": {
        "pay": _l("Payment into escrow"), "release": _l("Escrow released to seller"), "refund": _l("Refund"),
        "deposit": _l("Shop deposit"), "fund": _l("Guarantee fund"),
    },
    "carrier": {
        "sf": _l("SF Express"), "zto": _l("ZTO Express"), "yto": _l("YTO Express"), "sto": _l("STO Express"),
        "yunda": _l("Yunda Express"), "jd": _l("JD Logistics"), "ems": _l("China Post EMS"),
    },
    "phase": {
        "order": _l("Order"), "negotiation": _l("Negotiation"), "complaint": _l("Complaint"),
        "mediation": _l("Platform mediation"), "resolution": _l("Resolution"), "execution": _l("Execution"),
        "closed": _l("Closed"),
    },
    "shipment_status": {"in_transit": _l("In transit"), "signed": _l("Signed for")},
    "direction": {"forward": _l("To buyer"), "return": _l("Return"), "replacement": _l("Replacement")},
    "action": {
        "pay": _l("Pay"), "ship": _l("Ship"), "deliver": _l("Mark delivered"),
        "confirm_receipt": _l("Confirm receipt"), "close": _l("Close order"),
    },
}


def label(group, key):
    return LABELS.get(group, {}).get(key, key)
