from sqlalchemy import func, select

from ..auth.policy import ensure_contributor
from ..cases.models import Case
from ..errors import Forbidden, NotFound
from ..extensions import db
from .models import Evidence


def evidence_for(case, *, page=1, per_page=50):
    total = db.session.execute(select(func.count()).select_from(Evidence).where(Evidence.case_id == case.id)).scalar_one()
    rows = db.session.execute(select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)
                              .limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return rows, total


def get_evidence(user, evidence_id):
    """The evidence row when `user` is a party or the mediator of its case; 404 for anyone else."""
    evidence = db.session.get(Evidence, evidence_id) if isinstance(evidence_id, int) else None
    case = db.session.get(Case, evidence.case_id) if evidence is not None else None
    if case is None:
        raise NotFound("Evidence not found")
    try:
        ensure_contributor(user, case)
    except (NotFound, Forbidden):
        raise NotFound("Evidence not found") from None
    return evidence
