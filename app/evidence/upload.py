"""Streaming multipart upload: the file part goes straight from the request body into the
evidence store's writer (hashing while writing), never into memory or a second temp file.

Werkzeug's stock form parser spools the part to a temporary file first, and its sans-io
decoder copies every byte several times; this parser looks for the boundary with
`bytes.find` and hands memoryview slices of each chunk to the writer, so each byte is
copied once from the socket, hashed once and written once."""
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, replace

from werkzeug.http import parse_options_header

from workflows.problems import Problem

from ..errors import Invalid, TooLarge, UnsupportedType

CHUNK = 256 * 1024
# Every limit holds from the first byte, however the body is split into reads: only the file is large.
FIELD_LIMIT = 16 * 1024    # one form field's value
FORM_LIMIT = 64 * 1024     # everything that is not the file: all fields and skipped parts together
HEADER_LIMIT = 8 * 1024    # the preamble, and one part's headers
MAX_HEADER_LINES = 8
MAX_PARTS = 16             # the form has four fields (csrf_token, file, kind, description)
MAX_BOUNDARY = 100         # RFC 2046 says 70; Werkzeug's test client writes up to 72 (browsers ~40-55)
MAX_FILENAME_BYTES = 255
BIDI_CONTROLS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _malformed(problem):
    return Invalid("Malformed multipart body", {"file": Problem(problem, "upload_malformed")})


class Upload:
    def __init__(self):
        self.fields, self.writer, self.filename = {}, None, ""

    def close(self):
        if self.writer is not None:
            self.writer.abort()


class _Body:
    """The request body as a buffer we can search and consume from the front."""

    def __init__(self, stream):
        self.stream, self.buf, self.eof = stream, b"", False

    def fill(self, need):
        while len(self.buf) < need and not self.eof:
            chunk = self.stream.read(CHUNK)
            if not chunk:
                self.eof = True
            else:
                self.buf = self.buf + chunk if self.buf else chunk

    def read_until(self, marker, limit, what):
        """The bytes up to `marker` (consumed with it), at most `limit` of them: for the preamble and headers."""
        while True:
            at = self.buf.find(marker)
            if at > limit or (at < 0 and len(self.buf) > limit + len(marker)):
                raise _malformed(f"{what} longer than {limit} bytes")
            if at >= 0:
                data, self.buf = self.buf[:at], self.buf[at + len(marker):]
                return data
            if self.eof:
                raise _malformed("truncated")
            self.fill(len(self.buf) + 1)

    def skip(self, prefix, *followed_by):
        """Consume `prefix` if the body continues with it (and then with one of `followed_by`, if given)."""
        self.fill(len(prefix) + max(map(len, followed_by), default=0))
        if self.buf.startswith(prefix) and (
                not followed_by or any(self.buf.startswith(f, len(prefix)) for f in followed_by)):
            self.buf = self.buf[len(prefix):]
            return True
        return False

    def stream_until(self, marker, sink):
        """Pass everything before `marker` to sink(memoryview) chunk by chunk; consume the marker.

        Each chunk is searched once and handed on without copying; only the few bytes at a
        chunk's end that could begin the marker are held back and joined with the next chunk."""
        keep = len(marker) - 1
        while True:
            buf = self.buf
            at = buf.find(marker)
            if at >= 0:
                if at:
                    sink(memoryview(buf)[:at])
                self.buf = buf[at + len(marker):]
                return
            safe = len(buf) - keep
            if safe > 0:
                sink(memoryview(buf)[:safe])
            tail = buf[max(safe, 0):]
            chunk = self.stream.read(CHUNK)
            if not chunk:
                raise _malformed("truncated")
            self.buf = tail + chunk if len(chunk) < keep * 4 else chunk
            if self.buf is chunk:  # the marker may straddle the held-back tail and the new chunk
                joint = tail + chunk[:keep]
                at = joint.find(marker)
                if at >= 0:
                    if at:
                        sink(memoryview(joint)[:at])
                    self.buf = chunk[at + len(marker) - len(tail):]
                    return
                if tail:
                    sink(memoryview(tail))


class _Counter:
    """A sink that refuses a part once it, or the form's non-file bytes together, pass their limit."""

    def __init__(self):
        self.total = 0

    def sink(self, name, limit, keep=None):
        size = 0

        def write(data):
            nonlocal size
            size += len(data)
            self.total += len(data)
            if size > limit:
                raise Invalid("A form field is too long",
                              {name or "field": Problem(f"at most {limit} bytes", "field_too_long")})
            if self.total > FORM_LIMIT:
                raise Invalid("The form is too large",
                              {"file": Problem(f"form fields over {FORM_LIMIT} bytes", "upload_malformed")})
            if keep is not None:
                keep.extend(data)
        return write


def _filename(raw):
    """The name the client gave, without its path (C:\\Users\\x.png → x.png); refused when the path climbs
    (../x: nothing a browser sends), with control or bidi characters (NUL, line breaks, U+202E that shows
    "exe.png" for "gnp.exe") or over 255 bytes."""
    parts = raw.replace("\\", "/").split("/")
    if ".." in parts:
        raise Invalid("The file name must not contain a path", {"filename": Problem("path", "filename_path")})
    name = parts[-1]
    name = "" if name in (".", "..") else name
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        size = None
    if size is None or any(unicodedata.category(c) == "Cc" or c in BIDI_CONTROLS for c in name):
        raise Invalid("The file name contains control characters",
                      {"filename": Problem("control characters", "filename_control")})
    if size > MAX_FILENAME_BYTES:
        raise Invalid("The file name is too long", {"filename": Problem(
            f"at most {MAX_FILENAME_BYTES} bytes", "filename_too_long", max=MAX_FILENAME_BYTES)})
    return name


def parse_upload(request, store, max_size, check_fields=None):
    """Read the multipart body; returns an Upload whose writer holds the (uncommitted) file.

    `check_fields(fields)` sees the fields sent before the file part (a page's csrf_token) before the
    first byte of the file is stored, or at the end when no file came."""
    ctype, options = parse_options_header(request.headers.get("Content-Type", ""))
    boundary = options.get("boundary", "")
    if ctype != "multipart/form-data" or not boundary:
        raise Invalid("Send multipart/form-data with a file part", {"file": Problem("required", "file_required")})
    if len(boundary) > MAX_BOUNDARY:
        raise _malformed(f"boundary longer than {MAX_BOUNDARY} characters")
    overhead = FORM_LIMIT + HEADER_LIMIT * (MAX_PARTS + 1)
    if request.content_length is not None and request.content_length > max_size + overhead:
        raise TooLarge(f"The file is larger than {max_size // (1024 * 1024)} MB", {"max_bytes": max_size})
    delimiter = b"--" + boundary.encode()
    body, upload, counter = _Body(request.stream), Upload(), _Counter()
    try:
        body.read_until(delimiter, HEADER_LIMIT, "preamble")
        for part in range(MAX_PARTS + 1):
            if body.skip(b"--"):
                break  # closing boundary
            if part == MAX_PARTS:
                raise _malformed(f"more than {MAX_PARTS} parts")
            body.read_until(b"\r\n", HEADER_LIMIT, "boundary line")
            lines = body.read_until(b"\r\n\r\n", HEADER_LIMIT, "part header").decode("utf-8", "replace")
            lines = lines.split("\r\n")
            if len(lines) > MAX_HEADER_LINES:
                raise _malformed(f"more than {MAX_HEADER_LINES} header lines in a part")
            disposition = next((line.split(":", 1)[1] for line in lines
                                if line.lower().startswith("content-disposition:")), "")
            _, params = parse_options_header(disposition)
            name, end = params.get("name", ""), b"\r\n" + delimiter
            if "\x00" in name:
                raise Invalid("Text must not contain NUL characters",
                              {"field": Problem("contains a NUL character", "text_nul")})
            if body.skip(delimiter, b"\r\n", b"--"):  # an empty part: the blank line is the delimiter's CRLF
                if "filename" not in params:
                    upload.fields[name] = ""
                continue
            if "filename" in params and name == "file" and upload.writer is None:
                upload.filename = _filename(params["filename"])
                if check_fields is not None:
                    check_fields(upload.fields)
                upload.writer = store.writer(max_size)
                body.stream_until(end, upload.writer.write)
            elif "filename" in params:  # one file per upload; others are skipped, within the form's limit
                body.stream_until(end, counter.sink(name, FORM_LIMIT))
            else:
                value = bytearray()
                body.stream_until(end, counter.sink(name, FIELD_LIMIT, value))
                upload.fields[name] = value.decode("utf-8", "replace")
                if "\x00" in upload.fields[name]:
                    raise Invalid("Text must not contain NUL characters",
                                  {name: Problem("contains a NUL character", "text_nul")})
        if upload.writer is None and check_fields is not None:
            check_fields(upload.fields)
    except BaseException:
        upload.close()
        raise
    if upload.writer is None:
        raise Invalid("No file was sent", {"file": Problem("required", "file_required")})
    return upload


def receive_evidence(request, case, actor, check_fields=None):
    """Stream an upload into the store and record it on the case (pages and API share this).

    The actor is checked before the body is read, `check_fields` (a page's CSRF token) before the
    first byte of the file is stored, and the file is committed to the store
    only once every field is valid, so a rejected upload leaves no file and no row; when the
    row cannot be written after all (the case closed meanwhile), the files this upload added
    to the store are removed again, unless another upload has stored the same content since
    (services.discard_unreferenced; they are then left for `flask evidence verify --clean`)."""
    from flask import current_app

    import evidence_store
    from evidence_store import KIND_MIMES

    from .services import (add_evidence, check_evidence_fields, discard_unreferenced, ensure_can_add_evidence,
                           kind_mismatch)
    from .storage import get_store, store_errors

    ensure_can_add_evidence(actor, case)
    store = get_store()
    with store_errors():
        upload = parse_upload(request, store, current_app.config["EVIDENCE_MAX_BYTES"], check_fields)
        try:
            kind, description = upload.fields.get("kind"), upload.fields.get("description", "")
            check_evidence_fields(kind, description)
            try:
                stored = upload.writer.commit(accept=KIND_MIMES[kind])
            except evidence_store.WrongKind as exc:
                raise kind_mismatch(kind, exc.mime) from None
        finally:
            upload.close()
    added = [stored] if stored.created else []
    try:
        thumb = None
        if stored.mime.startswith("image/"):
            with store_errors():
                thumb = store.make_thumbnail(stored.sha256)  # None: above the thumbnail pixel budget
            if thumb and thumb.created:
                added.append(thumb)
        return add_evidence(case.id, actor=actor, kind=kind, description=description, stored=stored,
                            filename=upload.filename, thumb_sha256=thumb and thumb.sha256)
    except BaseException:
        discard_unreferenced(store, added)
        raise


@dataclass(frozen=True)
class StoredPhoto:
    """A photo already in the evidence store, to be recorded on a case inside the case's transaction."""
    sha256: str
    size: int
    mime: str
    filename: str
    thumb_sha256: str | None


MAX_PHOTOS = 6


@contextmanager
def _photo_problems():
    """The store's refusals as problems of the form's photos field."""
    from flask import current_app
    try:
        yield
    except TooLarge as err:
        mb = current_app.config["EVIDENCE_MAX_BYTES"] // (1024 * 1024)
        raise Invalid(err.message, {"photos": Problem(err.message, "photo_too_large", max=mb)}) from None
    except UnsupportedType as err:
        heic = getattr(err.details.get("file"), "code", None) == "file_heic"
        raise Invalid(err.message, {"photos": Problem(err.message, "photo_heic" if heic else "photo_type")}) from None
    except Invalid as err:
        pixels = getattr(err.details.get("file"), "code", None) == "file_image_pixels"
        raise Invalid(err.message, {"photos": Problem(
            err.message, "photo_too_many_pixels" if pixels else "photo_unreadable")}) from None


@contextmanager
def stored_photos(files):
    """Put the photos of a form (werkzeug FileStorage) into the evidence store — type checked by content
    (images only), size-limited — and yield them as StoredPhoto. When the block fails (the case was
    not written), the files this call added to the store are removed again: no case, no files."""
    from flask import current_app

    from evidence_store.mime import IMAGE_MIMES

    from .services import discard_unreferenced
    from .storage import get_store, store_errors

    files = [f for f in files if f and f.filename]
    if len(files) > MAX_PHOTOS:
        raise Invalid(f"At most {MAX_PHOTOS} photos", {"photos": Problem(f"at most {MAX_PHOTOS} photos",
                                                                           "too_many_photos", max=MAX_PHOTOS)})
    store, added, photos = get_store(), {}, []  # added: sha256 -> the latest Stored this call wrote
    try:
        for upload in files:
            with _photo_problems(), store_errors():
                writer = store.writer(current_app.config["EVIDENCE_MAX_BYTES"], allowed=tuple(IMAGE_MIMES))
                try:
                    while chunk := upload.stream.read(CHUNK):
                        writer.write(chunk)
                    stored = writer.commit()
                finally:
                    writer.abort()
                thumb = store.make_thumbnail(stored.sha256)  # None: above the thumbnail pixel budget
                for result in filter(None, (stored, thumb)):
                    if result.created:
                        added[result.sha256] = result
                    elif result.sha256 in added:  # the same photo twice: our own second write moved the stamp
                        added[result.sha256] = replace(added[result.sha256], stamp=result.stamp)
            if all(p.sha256 != stored.sha256 for p in photos):  # the same photo twice is attached once
                photos.append(StoredPhoto(stored.sha256, stored.size, stored.mime, upload.filename[:255],
                                          thumb and thumb.sha256))
        yield photos
    except BaseException:
        discard_unreferenced(store, list(added.values()))
        raise
