"""Template helpers: money as ¥12.34, times in Asia/Shanghai, translated labels, field problems
in the user's language."""
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from .labels import label, task_error


def money(fen):
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def local_time(value, fmt="%Y-%m-%d %H:%M"):
    if value is None:
        return ""
    from datetime import timezone
    tz = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    return value.replace(tzinfo=timezone.utc).astimezone(tz).strftime(fmt)


# how a page words each Problem code (workflows/problems.py); money values are fen, shown in yuan
PROBLEM_TEXTS = {
    "required": _l("Please fill this in."),
    "range_fen": _l("Between %(low)s and %(high)s."),
    "max_fen": _l("At most %(high)s."),
    "not_number": _l("Please enter a number."),
    "not_text": _l("Please enter text."),
    "not_bool": _l("Please tick the box or leave it empty."),
    "malicious_full_refund": _l("A claim granted in full cannot be found malicious."),
    "not_a_choice": _l("Please choose one of the options."),
    "not_a_date": _l("Please enter a date as YYYY-MM-DD."),
    "too_long": _l("At most %(max)s characters."),
    "too_many": _l("At most %(max)s entries."),
    "penalty_kind": _l("Choose a kind of penalty."),
    "penalty_takedown": _l("Choose the listing to take down."),
    "penalty_points": _l("Points between %(min)s and %(max)s."),
    "penalty_restrict": _l("Restriction between %(min)s and %(max)s days."),
    "penalty_twice": _l("Each penalty once: one of each kind, and a listing taken down once."),
    "listing_not_of_shop": _l("Only this shop's listings can be taken down."),
    "dismiss_only": _l("This complaint has no order to refund or exchange: dismiss it, with penalties if the shop "
                       "broke the rules."),
    "order_not_open": _l("This order does not accept after-sales requests."),
    "window_ended": _l("The after-sales period of this order has ended."),
    "kind_not_allowed": _l("Not possible for this order now; please choose one of the options offered."),
    "refund_only_before_shipping": _l("The order has not shipped yet: only a refund is possible."),
    "late_shipment_off": _l("Late-shipment compensation is switched off: no compensation is paid for late shipping."),
    "late_not_owed": _l("Late-shipment compensation applies only once, when the order shipped after its promised time."),
    "no_reason_not_eligible": _l("7-day no-reason returns apply only when every item promises them, within 7 days of receipt."),
    "reason_not_allowed": _l("This reason does not fit this request."),
    "item_not_in_order": _l("Please choose items of this order."),
    "open_case_exists": _l("This order already has an open after-sales case."),
    "case_limit": _l("This order has reached the limit of after-sales cases."),
    "too_many_photos": _l("At most %(max)s photos."),
    "photo_too_large": _l("A photo is too large: at most %(max)s MB each."),
    "photo_type": _l("Only photos (JPEG, PNG, WebP or GIF) can be attached here."),
    "photo_unreadable": _l("A photo could not be read; please choose another file."),
    "order_or_listing": _l("Please choose an order or a listing."),
    "listing_other_shop": _l("The listing is not from this order's shop."),
    "listing_complaint_open": _l("You already have an open complaint about this listing."),
    "listing_complaint_limit": _l("You already have %(max)s open complaints about listings; please wait until "
                                  "one of them is closed."),
    "return_address_other_shop": _l("Please choose one of your shop's return addresses."),
    # penalties (workflows/penalties.py): a restricted or blacklisted shop neither publishes nor sells
    "shop_restricted": _l("This shop is restricted until %(until)s: it cannot publish listings or take new orders."),
    "range_hours": _l("Between %(low)s and %(high)s hours."),
    "listing_penalised": _l("The platform took this listing down as a penalty: it cannot be put back on sale."),
    "listing_not_on_sale": _l("This listing is not on sale."),
    "shop_not_restricted": _l("The shop is not restricted."),
    "shop_not_blacklisted": _l("The shop is not blacklisted."),
    "shop_blacklisted": _l("This shop is closed (blacklisted): it cannot publish listings or take new orders."),
    # evidence uploads (app/evidence/upload.py, storage.py: file_<the evidence store's reason>)
    "file_required": _l("Please choose a file."),
    "file_empty": _l("The file is empty; please choose the file again."),
    "file_too_large": _l("The file is too large: at most 20 MB."),
    "file_type": _l("This file type is not accepted. Upload a photo, a PDF, an MP4 video or a text/CSV chat export."),
    "file_heic": _l("HEIC/HEIF photos (the iPhone's default format) are not accepted. Please upload the photo as "
                    "JPEG: on the iPhone choose Settings › Camera › Formats › Most Compatible, or upload a "
                    "screenshot of the photo."),
    "photo_heic": _l("HEIC/HEIF photos (the iPhone's default format) are not accepted. Please upload the photo as "
                     "JPEG: on the iPhone choose Settings › Camera › Formats › Most Compatible, or upload a "
                     "screenshot of the photo."),
    "file_text_encoding": _l("Text and CSV files must be saved as UTF-8. In Excel choose Save As › “CSV UTF-8”; "
                             "in Notepad choose the encoding UTF-8."),
    "file_markup": _l("The file contains web page or script code (for example text in angle brackets such as "
                      "<Media omitted>), which is not accepted as evidence. In a text chat export remove the angle "
                      "brackets, or upload a screenshot instead."),
    "file_pdf_encrypted": _l("The PDF is protected by a password. Remove the password (for example print it "
                             "again as PDF) and upload it again."),
    "file_pdf_active": _l("PDFs with scripts, attached files, launch actions or forms that send data are not "
                          "accepted. Print it again as PDF, or upload photos of its pages."),
    "file_pdf_inside": _l("The file also carries a PDF document inside it, which is not accepted. Please save or "
                          "export the photo or video again and upload the new copy."),
    "file_pdf_damaged": _l("The PDF is damaged or cannot be read; please save it again and upload it."),
    "file_pdf_pages": _l("The PDF has too many pages: at most 500."),
    "file_video_format": _l("Only MP4 videos are accepted. Please convert other formats, such as the iPhone's "
                            ".MOV videos, to MP4 first."),
    "file_video_damaged": _l("The video is not a complete MP4 file; it may be damaged or cut off."),
    "file_image_damaged": _l("The image is damaged or cannot be read; please choose another file."),
    "file_image_pixels": _l("The image has too many pixels; please upload a smaller copy (for example at the "
                            "phone's standard resolution)."),
    "photo_too_many_pixels": _l("The image has too many pixels; please upload a smaller copy (for example at the "
                                "phone's standard resolution)."),
    "file_damaged": _l("The file is damaged or cannot be read."),
    "file_error": _l("The file could not be stored; please try again."),
    "upload_malformed": _l("The upload was incomplete or could not be read; please try again."),
    "field_too_long": _l("The text is too long."),
    "text_nul": _l("The text contains a NUL character; please remove it."),
    "filename_path": _l("The file name must not contain a folder path (../); please rename the file and upload it "
                        "again."),
    "filename_control": _l("The file name contains invisible control characters; please rename the file and "
                           "upload it again."),
    "filename_too_long": _l("The file name is too long (at most %(max)s bytes, about 85 Chinese characters); "
                            "please rename the file and upload it again."),
}
MONEY_VALUES = ("low", "high", "amount")


def problem_text(problem):
    """A field's problem as a page shows it: in the user's language, money in yuan, no internal names."""
    template = PROBLEM_TEXTS.get(getattr(problem, "code", None) or (problem if problem == "required" else None))
    if template is None:
        return str(_l("Please check this field."))
    values = {k: money(v) if k in MONEY_VALUES else local_time(v) if isinstance(v, datetime) else v
              for k, v in getattr(problem, "values", {}).items()}
    return str(template) % values


def place_problems(form, details, fields):
    """Put a service's field problems (Invalid.details) beside the form's fields, in the user's language;
    `fields` maps the service's names to the form's. The others become `form.general_errors`."""
    general = []
    for name, problem in details.items():
        target = fields.get(name)
        if target is not None:
            form[target].errors = [*form[target].errors, problem_text(problem)]
        else:
            general.append(problem_text(problem))
    form.general_errors = general
    return form


MAX_PAGE = 1_000_000  # (page - 1) * per_page stays far inside the databases' integers


def page_arg():
    """The ?page= of a page list: a number from 1 to MAX_PAGE (anything else reads as the nearest)."""
    return min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)


def safe_next(value, default):
    """`value` if it is a path of this site, else `default`. Refused: anything not starting with a single
    "/" ("//evil.com" and "/<backslash>evil.com" name another host), any backslash, and any control character
    (browsers drop tab and newline, so "/<tab>/evil.com" becomes "//evil.com"; CR/LF would split the header)."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7f for c in value):
        return default
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else default


def register_template_helpers(app):
    app.jinja_env.filters.update(money=money, local_time=local_time, task_error=task_error)
    app.jinja_env.globals.update(label=label, current_locale=lambda: "zh_CN" if str(get_locale()).startswith("zh") else "en")
