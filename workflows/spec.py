"""The shapes of the rule tables. Each phase module declares its states and transitions
with these, so the module reads like the tables in DOMAIN.md."""
from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class StateSpec:
    name: str
    waiting_for: str | Callable | None = None  # buyer/seller/mediator/system, or f(model); None when terminal
    deadline: str | None = None        # name of a rules-table entry (hours), or None
    on_timeout: str | None = None      # trigger the system fires when the deadline passes
    terminal: bool = False


@dataclass(frozen=True)
class TransitionSpec:
    trigger: str                       # = the API action name
    source: tuple[str, ...]
    dest: str
    roles: tuple[str, ...]
    fields: tuple[str, ...] = ()
    guards: tuple[Callable, ...] = ()  # guard(model, data, rules) -> bool
    label: str = ""

    def passes(self, model, data, rules):
        return all(guard(model, data, rules) for guard in self.guards)


@dataclass(frozen=True)
class PhaseSpec:
    name: str
    initial: str
    states: tuple[StateSpec, ...]
    transitions: tuple[TransitionSpec, ...]
    attribute: str = "state"
    deadline_choice: Callable | None = field(default=None)  # (model, state, rules) -> rule name


def t(trigger, source, dest, roles, fields=(), guards=(), label=""):
    """Shorthand used by the phase tables: source and roles may be a string or a tuple."""
    as_tuple = (lambda v: (v,) if isinstance(v, str) else tuple(v))
    return TransitionSpec(trigger, as_tuple(source), dest, as_tuple(roles), tuple(fields), tuple(guards), label)
