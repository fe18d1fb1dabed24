"""The DomainError tree, mapped once to API.md's JSON error and to page messages."""
from flask import flash, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message, details=None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class BadRequest(DomainError):
    status, code = 400, "bad_request"


class NotAuthenticated(DomainError):
    status, code = 401, "not_authenticated"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class ActionNotAvailable(DomainError):
    status, code = 409, "action_not_available"


class Conflict(DomainError):
    status, code = 409, "conflict"


class Stale(Conflict):
    """The case moved on since the client read it (its version differs from the one sent)."""
    code = "stale"


class ShopNotSelling(Conflict):
    """The shop is restricted (until a time) or blacklisted: no new listings, no new orders."""
    code = "shop_not_selling"


class TooLarge(DomainError):
    status, code = 413, "too_large"


class UnsupportedType(DomainError):
    status, code = 415, "unsupported_type"


class Invalid(DomainError):
    status, code = 422, "invalid"


class Unavailable(DomainError):
    """Something the request needs is missing on this server (e.g. a CJK font for a report)."""
    status, code = 503, "unavailable"


class RateLimited(DomainError):
    status, code = 429, "rate_limited"

    def __init__(self, message, details=None, *, retry_after=None):
        super().__init__(message, details)
        self.retry_after = retry_after  # seconds: the Retry-After header


def error_body(code, message, details=None):
    return {"error": {"code": code, "message": message, "details": details or {}}}


def page_message(err):
    """The message a page shows for a domain error, in the user's language."""
    if err.code == "action_not_available":
        return _("That action is not available now.")
    if err.code == "stale":
        return _("This case changed since you opened it: someone acted first. Please review it and try again.")
    if err.code == "conflict":
        return _("Someone else changed this at the same time; please reload and try again.")
    if err.code in ("too_large", "unsupported_type", "invalid", "shop_not_selling"):
        sentences = _problem_sentences(err.details)
        if sentences:
            return " ".join(sentences)
    if err.code == "too_large":
        return _("The file is too large: at most 20 MB.")
    if err.code == "unsupported_type":
        return _("This file type is not accepted. Upload a photo, a PDF, an MP4 video or a text/CSV chat export.")
    if err.code == "invalid":  # never the API's detail codes ("filename: path"): they mean nothing to a person
        return _("Please check your input.")
    return err.message


def _problem_sentences(details):
    """The details that are Problems a page can word (app/web.py PROBLEM_TEXTS), as sentences in the user's
    language; a form field's problem names the field ("说明：最多 1000 个字符。")."""
    from .web import PROBLEM_TEXTS, problem_text

    fields = {"kind": _("Kind"), "description": _("Description")}
    sentences = []
    for name, problem in details.items():
        code = getattr(problem, "code", None)
        if code == "kind_mismatch":  # already a sentence in the user's language (evidence.services.kind_mismatch)
            sentences.append(str(problem))
        elif code in PROBLEM_TEXTS:
            text = problem_text(problem)
            sentences.append(_("%(field)s: %(problem)s", field=fields[name], problem=text) if name in fields else text)
    return sentences


def _lost_a_race(err):
    """A deadlock or serialization failure (PostgreSQL) or a lock wait that timed out (SQLite): the
    transaction was rolled back whole, and trying again is the answer — a 409, not a 500."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(err, DBAPIError):
        return False
    return (getattr(err.orig, "sqlstate", None) in ("40P01", "40001")
            or "database is locked" in str(err.orig))


def _back():
    """Where a page goes after a refused form: the page it came from, if that is on this site."""
    from urllib.parse import urlsplit

    from .web import safe_next

    referrer = urlsplit(request.referrer or "")
    same_site = (referrer.netloc == request.host and referrer.scheme in ("http", "https")) or (
        not referrer.netloc and not referrer.scheme)
    if not same_site:
        return "/"
    return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""), "/")


def _wants_json():
    return request.path.startswith("/api/")


def register_error_handlers(app):
    @app.errorhandler(DomainError)
    def domain_error(err):
        from .extensions import db

        db.session.rollback()
        if _wants_json():
            retry = {"Retry-After": str(err.retry_after)} if getattr(err, "retry_after", None) else {}
            return jsonify(error_body(err.code, err.message, err.details)), err.status, retry
        if err.status in (404, 403):
            return render_template("error.html", status=err.status, message=err.message), err.status
        flash(page_message(err), "error")
        return redirect(_back())

    @app.errorhandler(CSRFError)
    def csrf_error(err):
        if _wants_json():
            return jsonify(error_body("bad_request", err.description)), 400
        flash(_("The form expired or was sent from elsewhere; please try again."), "error")
        return redirect(_back())

    @app.errorhandler(HTTPException)
    def http_error(err):
        # the exception's own headers but its HTML Content-Type: a 405's Allow (RFC 9110), a 416's Content-Range
        headers = [(k, v) for k, v in err.get_headers() if k.lower() != "content-type"]
        if _wants_json():
            code = {400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
                    405: "method_not_allowed", 413: "too_large"}.get(err.code, "http_error")
            return jsonify(error_body(code, err.description or err.name)), err.code, headers
        return render_template("error.html", status=err.code, message=err.description), err.code, headers

    @app.errorhandler(Exception)
    def unexpected(err):
        from .extensions import db

        db.session.rollback()
        if _lost_a_race(err):  # the database chose this request to give way: nothing was written
            return domain_error(Conflict("Another request changed the same data at the same moment; try again"))
        app.logger.exception("unhandled error")
        if _wants_json():
            return jsonify(error_body("internal_error", "Internal error")), 500
        return render_template("error.html", status=500, message=_("Something went wrong.")), 500
