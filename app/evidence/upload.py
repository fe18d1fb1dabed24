"""Streaming multipart upload: the file part goes straight from the request body into the
evidence store's writer (hashing while writing), never into memory or a second temp file.

Werkzeug's stock form parser spools the part to a temporary file first and the handler
then reads it again to hash it; here each chunk is hashed and written once."""
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from ..errors import Invalid, TooLarge

CHUNK = 1 << 20
FIELD_LIMIT = 16 * 1024
TO_WRITER, IGNORED = object(), object()


class Upload:
    def __init__(self):
        self.fields, self.writer, self.filename = {}, None, ""

    def close(self):
        if self.writer is not None:
            self.writer.abort()


def parse_upload(request, store, max_size):
    """Read the multipart body; returns an Upload whose writer holds the (uncommitted) file."""
    ctype, options = parse_options_header(request.headers.get("Content-Type", ""))
    if ctype != "multipart/form-data" or not options.get("boundary"):
        raise Invalid("Send multipart/form-data with a file part", {"file": "required"})
    if request.content_length is not None and request.content_length > max_size + FIELD_LIMIT * 4:
        raise TooLarge(f"The file is larger than {max_size // (1024 * 1024)} MB", {"max_bytes": max_size})
    decoder, upload, part, buf = MultipartDecoder(options["boundary"].encode()), Upload(), None, []
    stream = request.stream
    try:
        while True:
            chunk = stream.read(CHUNK)
            decoder.receive_data(chunk or None)
            event = decoder.next_event()
            while not isinstance(event, (NeedData, Epilogue)):
                if isinstance(event, File) and event.name == "file" and upload.writer is None:
                    part, upload.filename = TO_WRITER, (event.filename or "")[:255]
                    upload.writer = store.writer(max_size)
                elif isinstance(event, File):
                    part = IGNORED  # one file per upload; further file parts are skipped
                elif isinstance(event, Field):
                    part, buf = event.name, []
                elif isinstance(event, Data):
                    if part is TO_WRITER:
                        upload.writer.write(event.data)
                    elif part is not None and part is not IGNORED:
                        buf.append(event.data)
                        if sum(map(len, buf)) > FIELD_LIMIT:
                            raise Invalid("A form field is too long", {part: f"at most {FIELD_LIMIT} bytes"})
                        if not event.more_data:
                            upload.fields[part] = b"".join(buf).decode("utf-8", "replace")
                    if not event.more_data:
                        part = None
                event = decoder.next_event()
            if isinstance(event, Epilogue) or not chunk:
                break
    except ValueError:
        upload.close()
        raise Invalid("Malformed multipart body", {"file": "malformed"}) from None
    except BaseException:
        upload.close()
        raise
    if upload.writer is None:
        raise Invalid("No file was sent", {"file": "required"})
    return upload


def receive_evidence(request, case, actor):
    """Stream an upload into the store and record it on the case (pages and API share this).

    The actor is checked before the body is read, and the file is committed to the store
    only once every field is valid, so a rejected upload leaves no file and no row."""
    from flask import current_app

    from .services import add_evidence, check_evidence_fields, ensure_can_add_evidence
    from .storage import get_store, store_errors

    ensure_can_add_evidence(actor, case)
    store = get_store()
    with store_errors():
        upload = parse_upload(request, store, current_app.config["EVIDENCE_MAX_BYTES"])
        try:
            kind, description = upload.fields.get("kind"), upload.fields.get("description", "")
            check_evidence_fields(kind, description)
            stored = upload.writer.commit()
        finally:
            upload.close()
        thumb = store.make_thumbnail(stored.sha256).sha256 if stored.mime.startswith("image/") else None
    return add_evidence(case.id, actor=actor, kind=kind, description=description, stored=stored,
                        filename=upload.filename, thumb_sha256=thumb)
