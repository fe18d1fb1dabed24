"""Late-shipment compensation (延迟发货赔付): when it is owed and how much, from the rules table.

It is the one payment to a buyer on top of the price, so the system computes it — never a
party's number: a share of the order's price within bounds, only when the order shipped
after its promised time (or has not shipped and the time has passed), at most once per
order. Every other compensation (补偿) counts against what is refundable."""


def late_shipment_compensation(price_fen, rules):
    """The full compensation for an order of `price_fen`: a share of the price within the rules' bounds."""
    share = price_fen * rules["late_shipment_percent"] // 100
    return max(rules["late_shipment_min_fen"], min(rules["late_shipment_max_fen"], share))


def shipped_late(ship_by, shipped_at, now):
    """Whether the promise to ship by `ship_by` was broken (shipped after it, or still unshipped past it)."""
    if ship_by is None:
        return False
    return (shipped_at or now) > ship_by


def late_shipment_due(price_fen, ship_by, shipped_at, already_paid_fen, now, rules):
    """What late-shipment compensation is still owed on an order (0 when it shipped on time)."""
    if not shipped_late(ship_by, shipped_at, now):
        return 0
    return max(late_shipment_compensation(price_fen, rules) - already_paid_fen, 0)


def is_about_late_shipment(reason, complaint_type):
    """A case whose subject is late shipment: its compensation remedy is the late-shipment rule's."""
    return reason == "late_shipment" or complaint_type == "not_shipped"
