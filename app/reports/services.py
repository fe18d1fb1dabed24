"""The case report: rendered once per state of the case and kept content-addressed in the report store
(the evidence store's `reports/` folder or prefix, where the evidence's orphan check does not look); the
`case_reports` row maps the cache key to the PDF's SHA-256."""
import functools
import hashlib
import json
import os
from urllib.parse import urlsplit, urlunsplit

from flask import current_app
from flask_babel import force_locale
from sqlalchemy.exc import IntegrityError

import evidence_store

from ..db_tx import transaction
from ..errors import Invalid
from ..evidence.storage import get_store
from ..extensions import db
from ..timeutil import utcnow
from .builder import Viewer, build_report, fingerprint
from .models import CaseReport
from .render import ensure_cjk_font, make_fetcher, render_pdf

TEMPLATE_VERSION = 1  # raise it when the builder's output changes meaning: cached reports are redone


@functools.cache
def _template_digest():
    """The report template's own text is part of every key: an edited template never serves an old PDF."""
    path = os.path.join(current_app.root_path, current_app.template_folder, "reports", "case.html")
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]
LANGS = {"zh": "zh_CN", "en": "en"}


def report_lang(value, default="zh"):
    """`zh` or `en` (also the page's locales zh_CN / en); 422 for anything else."""
    value = default if value is None else value
    value = {"zh_CN": "zh", "zh_Hans_CN": "zh"}.get(value, value)
    if value not in LANGS:
        raise Invalid("Unknown report language", {"lang": "zh or en"})
    return value


def report_store():
    store = current_app.extensions.get("report_store")
    if store is None:
        parts = urlsplit(current_app.config["EVIDENCE_STORE_URL"])
        url = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/reports"))
        store = current_app.extensions["report_store"] = evidence_store.open_store(url)
    return store


def cache_key(case, viewer, lang):
    data = [TEMPLATE_VERSION, _template_digest(), lang, *fingerprint(case, viewer)]
    return hashlib.sha256(json.dumps(data, separators=(",", ":")).encode()).hexdigest()


def case_report(case, *, user, lang, now=None):
    """(PDF bytes, SHA-256) of the report of `case` as `user` may see it (None: the operator, everything).
    A report already rendered for the same state of the case costs one lookup; otherwise it is rendered
    (503 without a CJK font) and remembered."""
    viewer = Viewer.of(user, case)
    key = cache_key(case, viewer, lang)
    row = db.session.get(CaseReport, key)
    if row is not None:
        try:
            with report_store().open(row.sha256) as f:
                return f.read(), row.sha256
        except KeyError:  # the file was removed: render it again
            pass
    ensure_cjk_font()
    now = now or utcnow()
    head = case.audit_head
    context, thumbs = build_report(case, viewer, now)
    fetcher = make_fetcher(get_store(), thumbs)
    with force_locale(LANGS[lang]):
        pdf = render_pdf(context, fetcher)
    # our own PDF: the evidence checks (page cap, markup scan) are for uploads — a long case must still print
    stored = report_store().put_bytes(pdf, allowed=("application/pdf",), trusted=True)
    _remember(key, case.id, stored.sha256, lang, head, now)
    return pdf, stored.sha256


def _remember(key, case_id, sha256, lang, head, now):
    try:
        with transaction():
            row = db.session.get(CaseReport, key)
            if row is None:
                db.session.add(CaseReport(key=key, case_id=case_id, sha256=sha256, lang=lang, audit_head=head,
                                          created_at=now))
            else:  # its file was gone
                row.sha256 = sha256
    except IntegrityError:  # a concurrent request remembered the same report first
        pass


def report_name(case, lang):
    return f"{case.number}-{lang}.pdf"
