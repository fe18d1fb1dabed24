"""Phase 5 — execution (执行): the case waits while its execution tasks carry out the remedy.

| state     | who acts       | moves                                                              |
|-----------|----------------|--------------------------------------------------------------------|
| executing | tasks / seller | seller: pay_refund, ship_replacement · buyer: confirm_replacement (each delegated to the task waiting for it) · system: complete → done (all tasks done) |

The tasks themselves, one per remedy, are the machine in workflows/tasks.py. The case is
looked at again every `execution_check_hours` (`check`) while tasks are still running."""
from .engine import Phase
from .spec import PhaseSpec, StateSpec, t


def _task_in(state):
    def guard(case, data, rules):
        return state in case.task_states
    guard.__name__ = f"task_{state}"
    return guard


def all_tasks_done(case, data, rules):
    return case.tasks_done


SPEC = PhaseSpec(
    name="execution",
    initial="executing",
    states=(
        StateSpec("executing", lambda case: case.task_waiting, "execution_check_hours", "check"),
        StateSpec("done", terminal=True),  # → closed / resolved
    ),
    transitions=(
        t("pay_refund", "executing", "=", "seller", guards=(_task_in("awaiting_seller"),)),
        t("ship_replacement", "executing", "=", "seller", fields=("carrier", "tracking_no"),
          guards=(_task_in("awaiting_shipment"),)),
        t("confirm_replacement", "executing", "=", "buyer", guards=(_task_in("in_transit"),)),
        t("check", "executing", "=", "system"),
        t("complete", "executing", "done", "system", guards=(all_tasks_done,)),
    ),
)

PHASE = Phase(SPEC)
