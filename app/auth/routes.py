from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm

from ..demo.data import DEMO_PASSWORD, DEMO_USERNAMES
from ..errors import NotAuthenticated, RateLimited
from ..extensions import db, login_manager
from .forms import LoginForm
from .models import User
from .services import authenticate

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id):
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def home_for(user):
    return {"seller": url_for("cases.inbox"), "mediator": url_for("cases.queue")}.get(
        user.role, url_for("orders.my_orders"))


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(home_for(current_user))


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data, remote_addr=request.remote_addr)
        except RateLimited:
            error = _("Too many failed logins. Please wait 15 minutes and try again.")
        except NotAuthenticated:
            error = _("Wrong username or password.")
        else:
            login_user(user)
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/") and not target.startswith("//") else home_for(user))
    demo = current_app.config["SHOW_DEMO_LOGINS"] and (DEMO_USERNAMES, DEMO_PASSWORD)
    return render_template("auth/login.html", form=form, error=error, demo=demo), (200 if not error else 401)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = FlaskForm()
    if form.validate_on_submit():
        logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>")
def set_language(code):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    target = request.args.get("next", "/")
    return redirect(target if target.startswith("/") and not target.startswith("//") else "/")
