"""Evidence writes: a stored file becomes an evidence record on the case, with an audit event."""
import logging

from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError

from ..auth.policy import ensure_contributor
from ..cases.audit import append_event
from ..cases.models import Case
from ..db_tx import lock, transaction
from ..errors import ActionNotAvailable, Invalid, NotFound
from ..extensions import db
from ..timeutil import utcnow
from .models import EVIDENCE_KINDS, Evidence

log = logging.getLogger(__name__)


def check_evidence_fields(kind, description):
    errors = {}
    if kind not in EVIDENCE_KINDS:
        errors["kind"] = f"must be one of: {', '.join(EVIDENCE_KINDS)}"
    if not isinstance(description, str) or len(description) > 1000:
        errors["description"] = "at most 1000 characters"
    if errors:
        raise Invalid("Invalid evidence fields", errors)


def ensure_can_add_evidence(actor, case):
    role = ensure_contributor(actor, case)
    if case.phase == "closed":
        raise ActionNotAvailable("The case is closed; no more evidence can be added", {"available_actions": []})
    return role


def add_evidence(case_id, *, actor, kind, description, stored, filename="", thumb_sha256=None, now=None):
    now = now or utcnow()
    check_evidence_fields(kind, description)
    with transaction():
        case = lock(Case, case_id, fresh=True)
        if case is None:
            raise NotFound("Case not found")
        role = ensure_can_add_evidence(actor, case)
        evidence = Evidence(case_id=case.id, uploader_id=actor.id, uploader_role=role, kind=kind,
                            description=description.strip(), sha256=stored.sha256, size=stored.size,
                            mime=stored.mime, filename=filename, thumb_sha256=thumb_sha256, created_at=now)
        db.session.add(evidence)
        db.session.flush()
        append_event(case, actor=actor, role=role, trigger="upload_evidence", before=(case.phase, case.state),
                     payload={"evidence_id": evidence.id, "kind": kind, "sha256": stored.sha256,
                              "size": stored.size, "mime": stored.mime}, now=now)
        case.updated_at = now
    return evidence


def referenced_hashes(shas=None):
    """The stored files evidence rows refer to (as file or thumbnail), among `shas` when given."""
    query = select(Evidence.sha256, Evidence.thumb_sha256)
    if shas is not None:
        query = query.where(or_(Evidence.sha256.in_(shas), Evidence.thumb_sha256.in_(shas)))
    return {sha for row in db.session.execute(query) for sha in row if sha is not None}


def discard_unreferenced(store, shas):
    """Remove files an upload added to the store when its row was not written, unless another row
    refers to the same content. If the database cannot tell, the files stay for
    `flask evidence verify --clean`."""
    if not shas:
        return
    try:
        db.session.rollback()
        keep = referenced_hashes(shas)
        db.session.rollback()
    except SQLAlchemyError:
        log.warning("could not check evidence files %s; left for `flask evidence verify --clean`", shas)
        return
    for sha in shas:
        if sha not in keep:
            store.delete(sha)
