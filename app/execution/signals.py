"""Named events the execution area publishes (blinker; other areas subscribe in their own package)."""
from blinker import Namespace

_signals = Namespace()

task_moved = _signals.signal("task-moved", doc="""
A task moved on its own (its job or the sweeper ran it), inside the transaction that moved it,
with the task's case row already locked. Sender: the task; kwargs: `now`, `rules`.
The cases area subscribes: the case follows its tasks (completes when they are done).""")
