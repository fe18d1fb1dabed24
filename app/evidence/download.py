import codecs
import csv
import io

from flask import Response, send_file

from evidence_store.mime import HEAD_SIZE, csv_delimiter

from ..csv_cells import neutralise
from ..errors import NotFound
from .storage import get_store


def send_evidence(evidence, thumbnail=False):
    """Stream a stored file: images inline, everything else as an attachment; never sniffed. A CSV chat
    export is served with its formula cells neutralised (the stored bytes, and so their hash, are kept)."""
    sha = evidence.thumb_sha256 if thumbnail else evidence.sha256
    if sha is None:
        raise NotFound("This evidence has no thumbnail")
    store = get_store()
    try:
        stream = store.open(sha)
    except KeyError:
        raise NotFound("The stored file is missing") from None
    mime = "image/jpeg" if thumbnail else evidence.mime
    inline = mime.startswith("image/")
    name = f"evidence-{evidence.id}" + ("-thumb.jpg" if thumbnail else "")
    if mime == "text/csv":
        response = Response(_neutralised_csv(stream), mimetype="text/csv")
        response.headers["Content-Disposition"] = f"attachment; filename={name}.csv"
        response.set_etag(f"{sha}-neutralised")
    else:
        response = send_file(stream, mimetype=mime, as_attachment=not inline, download_name=name,
                             etag=sha, max_age=3600, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _neutralised_csv(stream):
    """The CSV from ``stream`` row by row (UTF-8, checked at upload), every cell passed through neutralise()."""
    with stream:
        head = stream.read(HEAD_SIZE)
        delimiter = csv_delimiter(head.decode("utf-8", "ignore"), len(head) >= HEAD_SIZE) or ","
        decoder = codecs.getincrementaldecoder("utf-8")()
        lines = _lines(head, stream, decoder)
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
        for row in csv.reader(lines, delimiter=delimiter):
            writer.writerow([neutralise(cell) for cell in row])
            if out.tell() >= 1 << 16:
                yield out.getvalue().encode()
                out.seek(0)
                out.truncate()
        yield out.getvalue().encode()


def _lines(head, stream, decoder):
    """The lines (each with its "\n", as csv.reader wants them) of head + the rest of stream."""
    pending, chunk = "", head
    while chunk:
        *complete, pending = (pending + decoder.decode(chunk)).split("\n")
        yield from (line + "\n" for line in complete)
        chunk = stream.read(1 << 16)
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending
