"""What the seller service metrics count (卖家服务质量), as data the rollup SQL is built from.

A case enters the figures by how it ended and by what the case events say happened:
- a refund: the case closed `resolved` with one of REFUND_REMEDIES and an amount (the money was moved:
  a case closes resolved only after its execution tasks are done);
- a dispute refund (纠纷退款): a refund the platform decided — the case has a DISPUTE_TRIGGERS event;
- a timeout refund (超时退款): a refund the system agreed because the seller stayed silent — the
  case has a `system` event among TIMEOUT_REFUND_TRIGGERS (and no dispute event);
- an agreed refund: any other refund — the seller agreed in time (or the buyer took its counter-offer);
- a deadline breach: each `system` event of BREACH_TRIGGERS (the system acted on the seller's silence),
  and each `accept_by_silence` that accepted a proposal for the silent seller."""

REFUND_REMEDIES = ("full_refund", "partial_refund", "return_refund", "compensation")
DISPUTE_TRIGGERS = ("propose", "rule")
TIMEOUT_REFUND_TRIGGERS = ("agree", "confirm_received")
BREACH_TRIGGERS = ("agree", "confirm_received", "fail_replacement", "hand_over")
