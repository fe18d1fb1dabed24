"""Diagrams of the phase machines: a `GraphMachine` built from the same spec tables,
used only by `flask workflows diagram` and the /workflows page (needs Graphviz's `dot`)."""
from transitions.extensions import GraphMachine

from . import complaint, execution, mediation, negotiation, order, resolution

MODULES = {m.PHASE.name: m for m in (order, negotiation, complaint, mediation, resolution, execution)}
ALL_PHASES = {name: m.PHASE for name, m in MODULES.items()}


def _label(tr):
    guards = ", ".join(g.__name__ for g in tr.guards)
    return f"{tr.trigger} ({'/'.join(tr.roles)})" + (f"\n[{guards}]" if guards else "")


def svg(phase_name):
    """The SVG (bytes) of one phase machine."""
    spec = ALL_PHASES[phase_name].spec
    machine = GraphMachine(states=[s.name for s in spec.states], initial=spec.initial,
                           auto_transitions=False, graph_engine="graphviz", title=spec.name)
    for tr in spec.transitions:
        machine.add_transition(_label(tr), list(tr.source), tr.dest)
    return machine.get_graph().pipe(format="svg")
