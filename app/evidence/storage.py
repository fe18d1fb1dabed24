"""The configured evidence store, and its errors mapped to API.md's codes."""
from contextlib import contextmanager

from flask import current_app

import evidence_store
from workflows.problems import Problem

from ..errors import Invalid, TooLarge, UnsupportedType


def get_store():
    store = current_app.extensions.get("evidence_store")
    if store is None:
        store = current_app.extensions["evidence_store"] = evidence_store.open_store(
            current_app.config["EVIDENCE_STORE_URL"], max_image_pixels=current_app.config["EVIDENCE_MAX_IMAGE_PIXELS"],
            thumb_max_pixels=current_app.config["EVIDENCE_THUMB_MAX_PIXELS"])
    return store


@contextmanager
def store_errors():
    """evidence_store's errors as DomainErrors: 413 too large, 415 wrong type, 422 empty or corrupt."""
    # details["file"] is a Problem: the same text in the API, and a code (file_<the store's reason>) by which
    # a page says in the user's language why the file was refused (app/web.py PROBLEM_TEXTS)
    try:
        yield
    except evidence_store.TooLarge as exc:
        raise TooLarge(exc.message, {"file": Problem("too large", "file_too_large")}) from None
    except evidence_store.UnsupportedType as exc:
        raise UnsupportedType(exc.message, {"file": Problem("type not accepted", f"file_{exc.reason}"),
                                            "accepted": list(evidence_store.ALLOWED_MIMES)}) from None
    except evidence_store.StoreError as exc:
        raise Invalid(exc.message, {"file": Problem(exc.message, f"file_{exc.reason}")}) from None
