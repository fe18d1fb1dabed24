"""Evidence files stored by SHA-256: pure Python (no flask / sqlalchemy / app imports).

    store = open_store("file:///srv/tiaojie/evidence")
    store = open_store("s3://bucket/prefix?endpoint_url=http://127.0.0.1:9000&region=us-east-1")
    with store.writer(max_size=20 << 20) as w:
        for chunk in request_body:
            w.write(chunk)            # TooLarge as soon as the limit is passed
        stored = w.commit()           # Stored(sha256, size, mime, created, stamp)

The type is sniffed from the content (never the client's file name); images are checked with Pillow
(decompression-bomb guard, corrupt files rejected). Nothing is left behind after a rejection.
"""
from urllib.parse import parse_qsl, unquote, urlsplit

from .base import Store, Stored, Writer
from .errors import EmptyFile, InvalidContent, StoreError, TooLarge, UnsupportedType, WrongKind
from .filestore import FileStore
from .mime import ALLOWED_MIMES, KIND_MIMES, detect_mime
from .s3store import S3Store

__all__ = ["ALLOWED_MIMES", "EmptyFile", "FileStore", "InvalidContent", "KIND_MIMES", "S3Store", "Store",
           "StoreError", "Stored", "TooLarge", "UnsupportedType", "Writer", "WrongKind", "detect_mime", "open_store"]

_S3_OPTIONS = {"endpoint_url", "region", "tmp_dir", "addressing_style"}


def open_store(url: str, *, max_image_pixels: int = 25_000_000, thumb_max_pixels: int = 16_000_000) -> Store:
    """``file:///abs/dir`` (created if missing) or ``s3://bucket/prefix?endpoint_url=…&region=…``
    (also ``tmp_dir=`` for the local spool folder and ``addressing_style=path|virtual``; credentials
    come from the usual boto3 environment)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or parts.query:
            raise ValueError(f"unsupported file store URL: {url!r} (use file:///absolute/folder)")
        path = unquote(parts.path)
        if not path.startswith("/"):
            raise ValueError(f"the store's folder must be absolute: {url!r}")
        return FileStore(path, max_image_pixels=max_image_pixels, thumb_max_pixels=thumb_max_pixels)
    if parts.scheme == "s3":
        options = dict(parse_qsl(parts.query, keep_blank_values=False))
        unknown = set(options) - _S3_OPTIONS
        if unknown:
            raise ValueError(f"unknown s3 store option(s) {sorted(unknown)} in {url!r}")
        return S3Store(parts.netloc, unquote(parts.path), endpoint_url=options.get("endpoint_url"),
                       region=options.get("region"), tmp_dir=options.get("tmp_dir"),
                       addressing_style=options.get("addressing_style"), max_image_pixels=max_image_pixels,
                       thumb_max_pixels=thumb_max_pixels)
    raise ValueError(f"unsupported evidence store URL: {url!r} (use file:// or s3://)")
