"""The fields each action takes: type, whether required, allowed values, maximum length.

`validate(fields, data)` returns (clean values, {field: problem}); services call it before
firing a trigger, and `available_actions` lists the field names for clients."""
from .problems import Problem
from .rules import COMPLAINT_TYPES, REMEDIES

CARRIERS = ("sf", "zto", "yto", "sto", "yunda", "jd", "ems")
MAX_FEN = 10**12  # ¥10 billion: far above any order, far below the database's bigint

FIELDS = {
    # name: (type, required, choices, max length)
    "amount_fen": (int, True, None, None),
    "note": (str, False, None, 1000),
    "reason": (str, True, None, 1000),
    "type": (str, True, COMPLAINT_TYPES, None),
    "description": (str, False, None, 5000),
    "carrier": (str, True, CARRIERS, None),
    "tracking_no": (str, True, None, 64),
    "statement": (str, True, None, 5000),
    "party": (str, True, ("buyer", "seller", "both"), None),
    "remedy": (str, True, REMEDIES, None),
    "findings": (str, True, None, 5000),
    "rule": (str, True, None, 200),
    "penalties": (list, False, None, 5),
    "return_address_id": (int, False, None, None),  # one of the shop's return addresses; default when left out
    # the mediator's finding "buyer at fault / malicious" (恶意退款) with a proposal or ruling: once the decision
    # binds (proposal accepted, or final ruling) the buyer is flagged and loses platform advances (buyer credit)
    "buyer_malicious": (bool, False, None, None),
}
PENALTY_KINDS = ("takedown", "points", "restrict", "blacklist")
# the number each penalty kind takes: (name, lowest, highest); a blacklist takes none
PENALTY_NUMBERS = {"takedown": ("listing_id", 1, 2**31 - 1), "points": ("points", 1, 48), "restrict": ("days", 1, 365)}
# the remedies whose amount the mediator chooses; full_refund is what is refundable, the others move no money
REMEDIES_WITH_AMOUNT = ("partial_refund", "return_refund", "compensation")


def _penalty_problem(item):
    if not isinstance(item, dict) or item.get("kind") not in PENALTY_KINDS:
        return Problem(f"each penalty is an object with kind one of: {', '.join(PENALTY_KINDS)}", "penalty_kind")
    if item["kind"] in PENALTY_NUMBERS:
        name, low, high = PENALTY_NUMBERS[item["kind"]]
        value = item.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return Problem(f"{item['kind']} needs {name} between {low} and {high}", f"penalty_{item['kind']}",
                           min=low, max=high)
    return None


def validate(names, data):
    clean, errors = {}, {}
    for name in names:
        kind, required, choices, max_len = FIELDS[name]
        value = data.get(name)
        if isinstance(value, str):
            value = value.strip()
        if value in (None, ""):
            if required:
                errors[name] = Problem("required", "required")
            continue
        if kind is bool and not isinstance(value, bool):
            errors[name] = Problem("must be true or false", "not_bool")
        elif kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            errors[name] = Problem("must be an integer", "not_number")
        elif kind is str and not isinstance(value, str):
            errors[name] = Problem("must be a string", "not_text")
        elif kind is list and (not isinstance(value, list) or len(value) > max_len):
            errors[name] = Problem(f"must be a list of at most {max_len} items", "too_many", max=max_len)
        elif kind is list and any(map(_penalty_problem, value)):
            errors[name] = next(filter(None, map(_penalty_problem, value)))
        elif kind is list and len(set(map(_penalty_key, value))) < len(value):
            errors[name] = Problem("each penalty once: one of each kind, a takedown once per listing", "penalty_twice")
        elif choices and value not in choices:
            errors[name] = Problem(f"must be one of: {', '.join(choices)}", "not_a_choice")
        elif kind is str and max_len and len(value) > max_len:
            errors[name] = Problem(f"at most {max_len} characters", "too_long", max=max_len)
        elif kind is int and not 0 <= value <= MAX_FEN:
            errors[name] = Problem(f"must be between 0 and {MAX_FEN}", "range_fen", low=0, high=MAX_FEN)
        elif kind is list:
            clean[name] = [_penalty_clean(item) for item in value]
        else:
            clean[name] = value
    return clean, errors


def _penalty_key(item):
    return (item["kind"], item.get("listing_id") if item["kind"] == "takedown" else None)


def _penalty_clean(item):
    """A valid penalty with only its own keys (kind and its number), nothing else a client sent."""
    number = PENALTY_NUMBERS.get(item["kind"])
    return {"kind": item["kind"], **({number[0]: item[number[0]]} if number else {})}
