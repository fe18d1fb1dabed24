"""/workflows: the rule book — every phase machine as a diagram and a table, and the rules table."""
import functools

from flask import Blueprint, render_template
from flask_login import login_required
from markupsafe import Markup

from workflows import rules as rules_module
from workflows.diagrams import MODULES, svg

from ..rules import get_rules

bp = Blueprint("rulebook", __name__)


@functools.lru_cache(maxsize=None)
def _svg(phase):
    """Graphviz output of our own spec tables (trusted), cached per process."""
    try:
        return Markup(svg(phase).decode())  # nosec B704 - Graphviz SVG of our code's spec tables, no user data
    except Exception:  # Graphviz's `dot` missing: the tables below still tell everything
        return None


@bp.route("/workflows")
@login_required
def index():
    rules = get_rules()
    phases = [{"name": name, "spec": module.PHASE.spec, "svg": _svg(name)}
              for name, module in MODULES.items()]
    return render_template("rulebook/index.html", phases=phases, rules=rules,
                           defaults=rules_module.DEFAULTS)
