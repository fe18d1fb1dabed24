"""The app's rules table: workflows.Rules with the configured overrides (RULES / TIAOJIE_RULES) and, on top of
them, the values an admin set in the console (`rule_settings`, app/admin/services.py `update_rule`).

The settings are read on every call — one small query of a table with a row per changed key — so a change
applies at once in every process (web workers, the sweeper's loop, Celery workers) without a cache to
invalidate; the Rules object is rebuilt only when the rows differ from the last call's (per process)."""
from flask import current_app
from sqlalchemy import select

from workflows import Rules
from workflows.rules import DEFAULTS

from .extensions import db
from .timeutil import utcnow


class RuleSetting(db.Model):
    """A rule's value set by an admin; it wins over the configuration and DOMAIN.md's default."""
    __tablename__ = "rule_settings"
    key = db.Column(db.String(64), primary_key=True)
    value = db.Column(db.JSON, nullable=False)
    updated_by = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    user = db.relationship("User")


def configured_rules():
    """The rules before the admin's settings: DOMAIN.md's defaults with the configuration's overrides."""
    rules = current_app.extensions.get("tiaojie_rules")
    if rules is None:
        rules = current_app.extensions["tiaojie_rules"] = Rules(current_app.config.get("RULES") or {})
    return rules


def stored_settings():
    """{key: value} of the admin's settings for keys the rules table still has."""
    rows = db.session.execute(select(RuleSetting.key, RuleSetting.value)).all()
    return {key: value for key, value in rows if key in DEFAULTS}


def get_rules():
    base = configured_rules()
    settings = stored_settings()
    if not settings:
        return base
    stamp = tuple(sorted(settings.items()))  # (values are numbers and booleans)
    cached = current_app.extensions.get("tiaojie_rules_db")
    # the base itself, not its id(): a new base may reuse a freed one's id and get its stale rules
    if cached is None or cached[0] is not base or cached[1] != stamp:
        cached = current_app.extensions["tiaojie_rules_db"] = (base, stamp, Rules({**_overrides(base), **settings}))
    return cached[2]


def _overrides(rules):
    return {key: value for key, value in rules.items() if not rules.is_default(key)}
