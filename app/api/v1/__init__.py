"""The JSON API v1 (API.md). Views: load and check, call one service, serialize."""
import json
import math
from functools import wraps

from flask import Blueprint, g, request

from ...auth.services import user_for_token
from ...errors import BadRequest, Invalid, NotAuthenticated, TooLarge

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
MAX_PAGE = 1_000_000  # (page - 1) * per_page stays far inside a 64-bit OFFSET


def token_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        user = user_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        if user is None:
            raise NotAuthenticated("A valid bearer token is required")
        g.api_user = user
        return view(*args, **kwargs)
    return wrapped


MAX_JSON_DEPTH = 16  # objects within lists within objects…: far more than any request needs
# The most bytes of JSON each endpoint reads, decided before parsing (from Content-Length, and while a
# streamed body is read). A login is a username and a password: 4 KiB. Every other body carries at most
# a few text fields of ≤ 5000 characters (a decision's findings + rule + note ≈ 6,200), which clients that
# escape non-ASCII as \uXXXX (Python's json, Flask) send at 6 bytes a Chinese character: ≈ 38 KB, so 64 KiB.
# The evidence upload is multipart and has its own limits (evidence/upload.py).
JSON_LIMIT = 64 * 1024
JSON_LIMITS = {"api_v1.create_token": 4 * 1024}
UPLOAD_ENDPOINTS = ("api_v1.upload_evidence",)


def json_limit():
    return JSON_LIMITS.get(request.endpoint, JSON_LIMIT)


@bp.before_request
def _refuse_large_bodies():
    """A body declared larger than its endpoint takes is refused before a byte of it is read."""
    if request.endpoint not in UPLOAD_ENDPOINTS and (request.content_length or 0) > json_limit():
        raise TooLarge(f"The body is larger than {json_limit()} bytes", {"max_bytes": json_limit()})


def json_body(*fields, optional=False):
    """The request's JSON object; 413 when it is larger than the endpoint's limit (at most limit + 1 bytes
    are read); 400 when it is not application/json, not valid UTF-8 JSON, not an object, or nested too
    deeply; 422 for a key that is not one of `fields` (when given), NUL, unpaired surrogates or non-finite
    numbers. An empty body is {} when `optional`."""
    limit = json_limit()
    raw = _read_at_most(request.stream, limit + 1)
    if len(raw) > limit:
        raise TooLarge(f"The body is larger than {limit} bytes", {"max_bytes": limit})
    if optional and not raw:
        return {}
    if not request.is_json:
        raise BadRequest("Send the body as application/json")
    try:
        data = json.loads(raw)
    except RecursionError:  # the parser gave up on the nesting
        raise BadRequest(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except ValueError:  # malformed JSON or bytes that are not UTF-8
        raise BadRequest("The body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object")
    if _too_deep(data):
        raise BadRequest(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep")
    unknown = sorted(str(k) for k in data if fields and k not in fields)
    if unknown:
        raise Invalid("Unknown fields", {k: "unknown field" for k in unknown})
    bad = sorted(str(k) for k, v in data.items() if _has_nul(k) or _has_nul(v))
    if bad:
        raise Invalid("Text must not contain NUL characters", {k: "contains a NUL character" for k in bad})
    bad = sorted(k.encode("utf-8", "replace").decode() for k, v in data.items() if _not_unicode(k) or _not_unicode(v))
    if bad:  # "\ud800" parses, but no database can store it
        raise Invalid("Text must be valid Unicode", {k: "contains an unpaired surrogate" for k in bad})
    bad = sorted(str(k) for k, v in data.items() if _not_finite(v))
    if bad:  # JSON's Infinity / NaN literals (and 1e400) parse as floats: no field takes them, no database stores them
        raise Invalid("Numbers must be finite", {k: "must be a finite number" for k in bad})
    return _whole_numbers(data)


def _whole_numbers(value):
    """1000.0 is the integer 1000, as JSON Schema (and the OpenAPI document) reads it; exact floats only."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


def _read_at_most(stream, n):
    """Up to n bytes of the body (a streamed body may arrive in pieces)."""
    parts, size = [], 0
    while size < n:
        chunk = stream.read(n - size)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


def _too_deep(value):
    """Whether containers nest deeper than MAX_JSON_DEPTH (walked level by level, never recursively)."""
    level = [value]
    for _ in range(MAX_JSON_DEPTH):
        level = [v for x in level if isinstance(x, (dict, list)) for v in (x.values() if isinstance(x, dict) else x)]
        if not level:
            return False
    return any(isinstance(x, (dict, list)) for x in level)


def _not_finite(value):
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(map(_not_finite, value.values()))
    if isinstance(value, list):
        return any(map(_not_finite, value))
    return False


def _not_unicode(value):
    """Whether a string holds an unpaired surrogate (valid in JSON's \\u escapes, not in UTF-8)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_not_unicode(k) or _not_unicode(v) for k, v in value.items())
    if isinstance(value, list):
        return any(map(_not_unicode, value))
    return False


def _has_nul(value):
    """PostgreSQL text cannot hold NUL: refuse it on every database alike."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def page_args():
    errors = {}
    values = {}
    for name, default, top in (("page", 1, MAX_PAGE), ("per_page", 20, 100)):
        raw = request.args.get(name, default)
        try:
            value = int(raw)
        except (TypeError, ValueError):
            errors[name] = "must be an integer"
            continue
        if value < 1 or (top and value > top):
            errors[name] = f"must be between 1 and {top}" if top else "must be at least 1"
        values[name] = value
    if errors:
        raise Invalid("Invalid paging parameters", errors)
    return values["page"], values["per_page"]


def page_body(items, page, per_page, total):
    return {"items": items, "page": page, "per_page": per_page, "total": total}

