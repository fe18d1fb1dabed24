"""Named events the cases area publishes (blinker; other areas subscribe in their own package)."""
from blinker import Namespace

_signals = Namespace()

decision_bound = _signals.signal("decision-bound", doc="""
A mediator's decision became binding: a proposal accepted (by both parties or by silence) or a final ruling.
Sent inside the transaction of the action, after its audit event, with the case row locked and its remedy,
findings and `buyer_malicious` finding set. Sender: the case; kwargs: `now`, `rules`.
The credit area subscribes: a malicious finding, or too many dismissed claims, flags the buyer.""")
