"""Streaming multipart upload: the file part goes straight from the request body into the
evidence store's writer (hashing while writing), never into memory or a second temp file.

Werkzeug's stock form parser spools the part to a temporary file first, and its sans-io
decoder copies every byte several times; this parser looks for the boundary with
`bytes.find` and hands memoryview slices of each chunk to the writer, so each byte is
copied once from the socket, hashed once and written once."""
from contextlib import contextmanager
from dataclasses import dataclass, replace

from werkzeug.http import parse_options_header

from workflows.problems import Problem

from ..errors import Invalid, TooLarge, UnsupportedType

CHUNK = 256 * 1024
FIELD_LIMIT = 16 * 1024
HEADER_LIMIT = 8 * 1024


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

    def read_until(self, marker, limit):
        """Bytes up to `marker` (consumed with it), for small headers and fields."""
        while True:
            at = self.buf.find(marker)
            if at >= 0:
                data, self.buf = self.buf[:at], self.buf[at + len(marker):]
                return data
            if len(self.buf) > limit or self.eof:
                raise Invalid("Malformed multipart body", {"file": "malformed"})
            self.fill(len(self.buf) + 1)

    def stream_until(self, marker, sink, limit=None):
        """Pass everything before `marker` to sink(memoryview) chunk by chunk; consume the marker.

        Each chunk is searched once and handed on without copying; only the few bytes at a
        chunk's end that could begin the marker are held back and joined with the next chunk."""
        sent, keep = 0, len(marker) - 1
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
                sent += safe
                if limit is not None and sent > limit:
                    raise Invalid("A form field is too long", {"field": f"at most {limit} bytes"})
            tail = buf[max(safe, 0):]
            chunk = self.stream.read(CHUNK)
            if not chunk:
                raise Invalid("Malformed multipart body", {"file": "truncated"})
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
                    sent += len(tail)


def parse_upload(request, store, max_size):
    """Read the multipart body; returns an Upload whose writer holds the (uncommitted) file."""
    ctype, options = parse_options_header(request.headers.get("Content-Type", ""))
    if ctype != "multipart/form-data" or not options.get("boundary"):
        raise Invalid("Send multipart/form-data with a file part", {"file": "required"})
    if request.content_length is not None and request.content_length > max_size + FIELD_LIMIT * 4:
        raise TooLarge(f"The file is larger than {max_size // (1024 * 1024)} MB", {"max_bytes": max_size})
    boundary = options["boundary"].encode()
    body, upload = _Body(request.stream), Upload()
    try:
        body.read_until(b"--" + boundary, HEADER_LIMIT)  # preamble
        while True:
            body.fill(2)
            if body.buf.startswith(b"--"):
                break  # closing boundary
            body.read_until(b"\r\n", HEADER_LIMIT)
            headers = body.read_until(b"\r\n\r\n", HEADER_LIMIT).decode("utf-8", "replace")
            disposition = next((line.split(":", 1)[1] for line in headers.split("\r\n")
                                if line.lower().startswith("content-disposition:")), "")
            _, params = parse_options_header(disposition)
            name, end = params.get("name", ""), b"\r\n--" + boundary
            if "filename" in params and name == "file" and upload.writer is None:
                upload.filename = params["filename"][:255]
                upload.writer = store.writer(max_size)
                body.stream_until(end, upload.writer.write)
            elif "filename" in params:
                body.stream_until(end, lambda data: None)  # one file per upload; others are skipped
            else:
                value = bytearray()
                body.stream_until(end, value.extend, limit=FIELD_LIMIT)
                upload.fields[name] = value.decode("utf-8", "replace")
    except BaseException:
        upload.close()
        raise
    if upload.writer is None:
        raise Invalid("No file was sent", {"file": "required"})
    return upload


def receive_evidence(request, case, actor):
    """Stream an upload into the store and record it on the case (pages and API share this).

    The actor is checked before the body is read, and the file is committed to the store
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
        upload = parse_upload(request, store, current_app.config["EVIDENCE_MAX_BYTES"])
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
                thumb = store.make_thumbnail(stored.sha256)
            if thumb.created:
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
        raise Invalid(err.message, {"photos": Problem(err.message, "photo_type")}) from None
    except Invalid as err:
        raise Invalid(err.message, {"photos": Problem(err.message, "photo_unreadable")}) from None


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
                thumb = store.make_thumbnail(stored.sha256)
                for result in (stored, thumb):
                    if result.created:
                        added[result.sha256] = result
                    elif result.sha256 in added:  # the same photo twice: our own second write moved the stamp
                        added[result.sha256] = replace(added[result.sha256], stamp=result.stamp)
            if all(p.sha256 != stored.sha256 for p in photos):  # the same photo twice is attached once
                photos.append(StoredPhoto(stored.sha256, stored.size, stored.mime, upload.filename[:255],
                                          thumb.sha256))
        yield photos
    except BaseException:
        discard_unreferenced(store, list(added.values()))
        raise
