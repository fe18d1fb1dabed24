"""The app's rules table: workflows.Rules with the configured overrides (RULES / TIAOJIE_RULES)."""
from flask import current_app

from workflows import Rules


def get_rules():
    rules = current_app.extensions.get("tiaojie_rules")
    if rules is None:
        rules = current_app.extensions["tiaojie_rules"] = Rules(current_app.config.get("RULES") or {})
    return rules
