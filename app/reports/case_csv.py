"""The case list as CSV for mediators and admins (issue 12 point 5): UTF-8 with a BOM (so spreadsheet programs
read the Chinese right), labels in the requester's language, times in the display time zone, every text cell
neutralised against formulas, written row by row into a small buffer so any number of cases streams in
constant memory."""
import csv
import io
from datetime import timezone
from zoneinfo import ZoneInfo

from flask import Response, current_app
from flask_babel import lazy_gettext as _l

from ..cases.queries import CaseFilter, export_rows
from ..csv_cells import neutralise
from ..labels import LABELS
from ..timeutil import utcnow

BOM = "\ufeff"
FLUSH_AT = 64 * 1024  # characters buffered before a chunk is handed on
TIME_FORMAT = "%Y-%m-%d %H:%M"
HEADER = (_l("Case number"), _l("Kind"), _l("Reason"), _l("Phase"), _l("Status"), _l("Buyer"), _l("Shop"),
          _l("Mediator"), _l("Amount (yuan)"), _l("Amount (fen)"), _l("Opened at"), _l("Last change"),
          _l("Deadline"), _l("Outcome"))


def filename(now=None):
    """cases-YYYYMMDD-HHMM.csv, the date and time in the display time zone."""
    local = (now or utcnow()).replace(tzinfo=timezone.utc).astimezone(_zone())
    return f"cases-{local:%Y%m%d-%H%M}.csv"


def _zone():
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


def _yuan(fen):
    return f"{fen // 100}.{fen % 100:02d}"


def _labels():
    """{group: {code: label}} in the current language, translated once per export, not once per cell."""
    return {group: {code: str(text) for code, text in LABELS[group].items()}
            for group in ("kind", "reason", "complaint_type", "phase", "case_state", "remedy")}


def _row(r, labels, zone):
    def when(value):
        return value.replace(tzinfo=timezone.utc).astimezone(zone).strftime(TIME_FORMAT) if value else ""

    def name(group, code):
        return labels[group].get(code, code) if code else ""

    reason = name("reason", r.reason) if r.reason else name("complaint_type", r.complaint_type)
    outcome = ""
    if r.remedy_type:
        outcome = name("remedy", r.remedy_type) + (f" ¥{_yuan(r.remedy_amount_fen)}" if r.remedy_amount_fen else "")
    elif r.phase == "closed":
        outcome = name("case_state", r.state)
    texts = (r.number, name("kind", r.kind), reason, name("phase", r.phase), name("case_state", r.state),
             r.buyer or "", r.shop or "", r.mediator or "")
    return [*map(neutralise, texts), _yuan(r.amount_fen), r.amount_fen, when(r.created_at), when(r.updated_at),
            when(r.due_at), neutralise(outcome)]


def csv_chunks(user, filters=CaseFilter()):
    """The export as UTF-8 byte chunks of about FLUSH_AT characters: the BOM and the header, then the rows.
    Labels, time zone and query are fixed now, in the caller's context and language; the returned generator
    needs no Flask context, so a streamed response can run it after the request's context is gone."""
    labels, zone, rows = _labels(), _zone(), export_rows(user, filters)
    header = [str(h) for h in HEADER]

    def chunks():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        buffer.write(BOM)
        writer.writerow(header)
        for r in rows:
            writer.writerow(_row(r, labels, zone))
            if buffer.tell() >= FLUSH_AT:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")
    return chunks()


def csv_response(user, filters):
    """The export as a streamed attachment (rows are read while the response is sent)."""
    response = Response(csv_chunks(user, filters), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename={filename()}"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
