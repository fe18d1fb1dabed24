from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm

from ..demo.data import DEMO_PASSWORD, DEMO_USERNAMES
from ..errors import Invalid, NotAuthenticated, RateLimited
from ..extensions import db, login_manager
from ..web import safe_next
from .forms import ChangePasswordForm, LoginForm
from .models import User
from .services import DEVICE_COOKIE, MIN_PASSWORD_LENGTH, authenticate, change_password, end_sessions, new_device_cookie

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(session_id):
    """The user of a session id "<user id>:<session version>" (User.get_id); an older version has ended."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.session_version == int(version) else None


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
    error, status, headers = None, 200, {}
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data, remote_addr=request.remote_addr,
                                device_cookie=request.cookies.get(DEVICE_COOKIE))
        except RateLimited as err:
            error, status, headers = _wait_message(err.retry_after), 429, {"Retry-After": str(err.retry_after)}
        except NotAuthenticated:
            error, status = _("Wrong username or password."), 401
        else:
            login_user(user)
            return _remember_device(redirect(safe_next(request.args.get("next"), home_for(user))), user)
    demo = current_app.config["SHOW_DEMO_LOGINS"] and (DEMO_USERNAMES, DEMO_PASSWORD)
    return render_template("auth/login.html", form=form, error=error, demo=demo), status, headers


def _remember_device(response, user):
    """Set the device cookie of a successful login: this browser's own failures count against it, not the
    attacker's guesses at the username (auth/services.py)."""
    response.set_cookie(DEVICE_COOKIE, new_device_cookie(user.username), httponly=True, samesite="Lax",
                        max_age=current_app.config["LOGIN_DEVICE_COOKIE_DAYS"] * 86400,
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _wait_message(seconds):
    if seconds < 120:
        return _("Too many failed logins. Please wait %(n)s seconds and try again.", n=seconds)
    return _("Too many failed logins. Please wait %(n)s minutes and try again.", n=-(-seconds // 60))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = FlaskForm()
    if form.validate_on_submit():
        end_sessions(current_user._get_current_object())  # a copy of this session's cookie ends with it
        logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    """Change the password: the user's other sessions and API tokens end; this browser stays signed in."""
    form = ChangePasswordForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        try:
            change_password(current_user._get_current_object(), form.current_password.data, form.new_password.data,
                            remote_addr=request.remote_addr, device_cookie=request.cookies.get(DEVICE_COOKIE))
        except RateLimited as err:  # guessing the current password is throttled like a login
            form.current_password.errors = [_wait_message(err.retry_after)]
            status, headers = 429, {"Retry-After": str(err.retry_after)}
        except Invalid as err:
            texts = {"wrong_password": _("The current password is not correct."),
                     "too_short": _("At least %(min)d characters.", min=MIN_PASSWORD_LENGTH)}
            for name, code in err.details.items():
                form[name].errors = [*form[name].errors, texts[code]]
        else:
            login_user(current_user._get_current_object())
            flash(_("Password changed. Your other sessions and API tokens have ended."), "success")
            return _remember_device(redirect(home_for(current_user)), current_user)
    return render_template("auth/password.html", form=form), status, headers


@bp.route("/lang/<code>")
def set_language(code):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next"), "/"))
