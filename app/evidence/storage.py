"""The configured evidence store, and its errors mapped to API.md's codes."""
from contextlib import contextmanager

from flask import current_app

import evidence_store

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
    try:
        yield
    except evidence_store.TooLarge as exc:
        raise TooLarge(exc.message, {"file": "too large"}) from None
    except evidence_store.UnsupportedType as exc:
        raise UnsupportedType(exc.message, {"file": "type not accepted",
                                            "accepted": list(evidence_store.ALLOWED_MIMES)}) from None
    except evidence_store.StoreError as exc:
        raise Invalid(exc.message, {"file": exc.message}) from None
