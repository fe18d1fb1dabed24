from flask import send_file

from ..errors import NotFound
from .storage import get_store


def send_evidence(evidence, thumbnail=False):
    """Stream a stored file: images inline, everything else as an attachment; never sniffed."""
    sha = evidence.thumb_sha256 if thumbnail else evidence.sha256
    if sha is None:
        raise NotFound("This evidence has no thumbnail")
    try:
        stream = get_store().open(sha)
    except KeyError:
        raise NotFound("The stored file is missing") from None
    mime = "image/jpeg" if thumbnail else evidence.mime
    inline = mime.startswith("image/")
    name = f"evidence-{evidence.id}" + ("-thumb.jpg" if thumbnail else "")
    response = send_file(stream, mimetype=mime, as_attachment=not inline, download_name=name,
                         etag=sha, max_age=3600, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
