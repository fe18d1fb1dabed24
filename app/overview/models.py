"""The index the overview's counts by phase and mediator read (no tables of its own): open cases only (≈ a
tenth of all). Migration 9c1e5a7d3b20 creates it. The time indexes its windows use (cases opened or closed
in a period, case events in a period) are declared with the metrics rollup, app/metrics/models.py."""
from ..cases.models import Case
from ..extensions import db

INDEXES = (
    db.Index("ix_cases_open_phase", Case.phase, Case.mediator_id, postgresql_where=Case.phase != "closed",
             sqlite_where=Case.phase != "closed"),
)
