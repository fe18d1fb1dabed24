"""Evidence writes: a stored file becomes an evidence record on the case, with an audit event."""
import logging
import time

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError

from evidence_store import KIND_MIMES
from workflows.problems import Problem

from ..auth.policy import ensure_contributor
from ..cases.audit import append_event
from ..cases.models import Case
from ..db_tx import lock, transaction
from ..errors import ActionNotAvailable, Invalid, NotFound
from ..extensions import db
from ..labels import label
from ..timeutil import utcnow
from .models import EVIDENCE_KINDS, Evidence

log = logging.getLogger(__name__)


def check_evidence_fields(kind, description):
    errors = {}
    if kind not in EVIDENCE_KINDS:
        errors["kind"] = Problem(f"must be one of: {', '.join(EVIDENCE_KINDS)}", "not_a_choice")
    if not isinstance(description, str) or len(description) > 1000:
        errors["description"] = Problem("at most 1000 characters", "too_long", max=1000)
    if errors:
        raise Invalid("Invalid evidence fields", errors)


TYPE_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", "image/gif": "GIF",
              "application/pdf": "PDF", "video/mp4": "MP4", "text/plain": "TXT", "text/csv": "CSV"}


def kind_mismatch(kind, mime):
    """The 422 for a file whose content type the kind does not accept (evidence_store.KIND_MIMES)."""
    accepted = [TYPE_NAMES[m] for m in KIND_MIMES[kind]]
    message = _("Evidence of the kind “%(kind)s” accepts only %(accepted)s files; this file is %(found)s.",
                kind=label("evidence_kind", kind), accepted=_(", ").join(accepted), found=TYPE_NAMES.get(mime, mime))
    # the page shows the details: the sentence goes there too, in the user's language
    return Invalid(message, {"file": Problem(message, "kind_mismatch", kind=kind, accepted=list(KIND_MIMES[kind]))})


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


def referenced_now(shas=None):
    """referenced_hashes() in a read transaction of its own, ended at once: it sees every row committed
    up to now (on SQLite a read transaction keeps seeing the database as it was when it began), and no
    transaction stays open while the caller works on the store."""
    db.session.rollback()
    try:
        return referenced_hashes(shas)
    finally:
        db.session.rollback()


# No file a committed row refers to is ever removed (DOMAIN.md). An upload of content already stored
# refreshes the file's modified time and stamp (evidence_store: _commit) BEFORE it writes its row, so the
# two removals below check the rows first and the file's age or stamp last, immediately before deleting.
# The window left, in both: an upload of the same bytes that reuses the file between that last check and
# the delete (a system call on file://, one request on s3://) and then commits its row; that row points to
# a missing file. Closing it would need a lock shared by the store and the database. For --clean also an
# upload whose row is committed more than --min-age-minutes after it stored (or reused) its file: keep the
# minimum age far above an upload's duration (60 minutes by default; 0 is safe only with uploads stopped).

def discard_unreferenced(store, stored):
    """Remove the files (Stored results) an upload created when its row was not written — only when no
    row refers to one AND its stamp is still the one this upload left: a concurrent upload of the same
    bytes refreshes it, and its row may not be committed yet. A file kept stays for
    `flask evidence verify --clean`, which removes it once it is older than --min-age-minutes and still
    unreferenced; so does everything when the database cannot tell."""
    stored = [s for s in stored if s.created and s.stamp is not None]
    if not stored:
        return
    try:
        keep = referenced_now([s.sha256 for s in stored])
    except SQLAlchemyError:
        log.warning("could not check evidence files %s; left for `flask evidence verify --clean`",
                    [s.sha256 for s in stored])
        return
    for s in stored:
        if s.sha256 not in keep and store.stamp(s.sha256) == s.stamp:
            store.delete(s.sha256)
        else:
            log.info("evidence file %s is used again; left for `flask evidence verify --clean`", s.sha256)


def remove_orphan(store, sha, min_age):
    """For `flask evidence verify --clean`: remove the file ``sha`` if, checked now, no row refers to it
    and it was last stored or reused more than ``min_age`` seconds ago. True when it was removed."""
    if referenced_now([sha]):
        return False
    modified = store.modified_at(sha)
    if modified is None or time.time() - modified <= min_age:
        return False
    return store.delete(sha)
