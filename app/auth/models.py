from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..timeutil import utcnow

ROLES = ("buyer", "seller", "mediator", "admin")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(64), nullable=False, unique=True)
    display_name = db.Column(db.String(64), nullable=False)
    password_hash = db.Column(db.String(256), nullable=False)
    role = db.Column(db.String(16), nullable=False)
    shop_id = db.Column(db.Integer, db.ForeignKey("shops.id"), index=True)  # sellers: the shop they staff
    is_active_flag = db.Column("is_active", db.Boolean, nullable=False, default=True)
    is_malicious_refund = db.Column(db.Boolean, nullable=False, default=False)  # buyer credit: no advances
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    # part of every session's user id (get_id): logout and a password change move it on, ending the
    # sessions signed with the old one wherever their cookies went
    session_version = db.Column(db.Integer, nullable=False, default=1, server_default="1")

    __table_args__ = (
        db.CheckConstraint("role IN ('buyer', 'seller', 'mediator', 'admin')", name="role"),
        db.CheckConstraint("role <> 'seller' OR shop_id IS NOT NULL", name="seller_has_shop"),
    )

    shop = db.relationship("Shop")

    @property
    def is_active(self):
        return self.is_active_flag

    def get_id(self):
        return f"{self.id}:{self.session_version}"

    def set_password(self, password):
        self.password_hash = generate_password_hash(password)

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored."""
    __tablename__ = "api_tokens"
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    expires_at = db.Column(db.DateTime, nullable=False)
    revoked_at = db.Column(db.DateTime)

    user = db.relationship("User")


class LoginFailure(db.Model):
    """Failed logins, for rate limiting (pages and API share it; works across processes)."""
    __tablename__ = "login_failures"
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(64), nullable=False)
    remote_addr = db.Column(db.String(64), nullable=False)
    at = db.Column(db.DateTime, nullable=False, default=utcnow)

    __table_args__ = (db.Index("ix_login_failures_username_at", "username", "at"),
                      db.Index("ix_login_failures_remote_addr_at", "remote_addr", "at"),
                      db.Index("ix_login_failures_at", "at"))


class MediatorTeam(db.Model):
    """A team of mediators handling the cases of some goods' categories (调解小组): a queued mediation case
    whose category a team covers is in the queue of, and auto-assigned to, that team's mediators only; a
    category no team covers stays with all mediators."""
    __tablename__ = "mediator_teams"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(64), nullable=False, unique=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    categories = db.relationship("MediatorTeamCategory", cascade="all, delete-orphan",
                                 order_by="MediatorTeamCategory.category")
    members = db.relationship("MediatorTeamMember", cascade="all, delete-orphan",
                              order_by="MediatorTeamMember.user_id")


class MediatorTeamCategory(db.Model):
    __tablename__ = "mediator_team_categories"
    team_id = db.Column(db.Integer, db.ForeignKey("mediator_teams.id"), primary_key=True)
    category = db.Column(db.String(32), primary_key=True, index=True)


class MediatorTeamMember(db.Model):
    __tablename__ = "mediator_team_members"
    team_id = db.Column(db.Integer, db.ForeignKey("mediator_teams.id"), primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), primary_key=True, index=True)

    user = db.relationship("User")
