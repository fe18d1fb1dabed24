from ..extensions import db
from ..timeutil import utcnow

EVIDENCE_KINDS = ("photo", "chat_screenshot", "shipping_proof", "video", "document", "chat_export")


class Evidence(db.Model):
    """A file a party or the mediator put on a case; the bytes live in the evidence store by SHA-256."""
    __tablename__ = "evidence"
    id = db.Column(db.Integer, primary_key=True)
    case_id = db.Column(db.Integer, db.ForeignKey("cases.id"), nullable=False, index=True)
    uploader_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    uploader_role = db.Column(db.String(16), nullable=False)
    kind = db.Column(db.String(16), nullable=False)
    description = db.Column(db.String(1000), nullable=False, default="")
    sha256 = db.Column(db.String(64), nullable=False, index=True)
    size = db.Column(db.BigInteger, nullable=False)
    mime = db.Column(db.String(64), nullable=False)
    filename = db.Column(db.String(255), nullable=False, default="")  # the client's name: metadata only
    thumb_sha256 = db.Column(db.String(64))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    uploader = db.relationship("User")

    @property
    def is_image(self):
        return self.mime.startswith("image/")
