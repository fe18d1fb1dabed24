"""Indexes the overview's and the analysis's queries need (no tables of its own): time windows over cases
(opened in a period, closed in a period), open cases by phase, and over case events (deadline breaches and decisions in a period).
Declared here, beside the queries that use them; migration 9c1e5a7d3b20 creates them."""
from ..cases.models import Case, CaseEvent
from ..extensions import db

INDEXES = (
    db.Index("ix_cases_created_at", Case.created_at),
    db.Index("ix_cases_closed_at", Case.closed_at),
    db.Index("ix_case_events_created_at", CaseEvent.created_at),
    # open cases only (≈ a tenth of all): the overview's counts by phase and mediator read this, not the table
    db.Index("ix_cases_open_phase", Case.phase, Case.mediator_id, postgresql_where=Case.phase != "closed",
             sqlite_where=Case.phase != "closed"),
)
