from ..extensions import db
from ..timeutil import utcnow


class CaseReport(db.Model):
    """A rendered report in the report store: its cache key (case, audit head, language, template version,
    what the reader may see …) → the PDF's SHA-256."""
    __tablename__ = "case_reports"
    key = db.Column(db.String(64), primary_key=True)
    case_id = db.Column(db.Integer, db.ForeignKey("cases.id"), nullable=False, index=True)
    sha256 = db.Column(db.String(64), nullable=False)
    lang = db.Column(db.String(8), nullable=False)
    audit_head = db.Column(db.String(64), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
