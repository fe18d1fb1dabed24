"""The rule book: states, triggers, roles, guards and deadlines of every state machine.

Pure Python: nothing here imports flask, sqlalchemy or app (a test checks it)."""
from .engine import ActionNotAllowed, Phase
from .rules import Rules

__all__ = ["ActionNotAllowed", "Phase", "Rules"]
