"""The backend-independent part of the store: Stored, Writer and the Store base class.

A Writer hashes the upload and spools it to a temporary file chunk by chunk; commit() checks it (empty,
type sniffed from the content and accepted by the upload's kind, the whole content checked by content.py,
images sound and not bombs) and hands the temporary
file to the backend, which stores it under its SHA-256 without ever overwriting anything.
"""
import hashlib
import os
import re
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from .content import check_mp4, check_pdf, check_text, no_pdf_inside, scan_markup
from .errors import EmptyFile, StoreError, TooLarge, UnsupportedType, WrongKind
from .images import check_image, thumbnail_jpeg
from .mime import ALLOWED_MIMES, HEAD_SIZE, IMAGE_MIMES, detect_mime, unknown_type_reason

_SHA256 = re.compile(r"[0-9a-f]{64}")
_READ_SIZE = 1 << 20
THUMB_PX = 320  # make_thumbnail's default size, the one an upload's commit makes from its check's decode
_KEPT_THUMBS = 64  # thumbnails made by commit() and not yet asked for (about 20 KB each)
_MISSING = object()


def is_sha256(name) -> bool:
    return isinstance(name, str) and _SHA256.fullmatch(name) is not None


def shard(sha256: str) -> str:
    """``ab/cd/abcd…``: the object's path below the store's root."""
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


@dataclass(frozen=True)
class Stored:
    sha256: str      # hex
    size: int
    mime: str
    created: bool    # False when the content was already stored (deduplicated)
    # The object as this upload left it (see Store.stamp()): while store.stamp(sha256) still equals it, no
    # later upload has stored or reused the same content.
    stamp: object = field(default=None, compare=False)


class Writer:
    """Receives an upload chunk by chunk. Use as a context manager: leaving the block without a
    successful commit() removes the temporary file."""

    def __init__(self, store: "Store", max_size: int, allowed=ALLOWED_MIMES, *, trusted=False):
        self._store = store
        # bytes the platform made itself (a thumbnail of a checked image, a case report): typed, not content-checked
        self._trusted = trusted
        self._max_size = max_size
        self._allowed = tuple(allowed)
        self._hash = hashlib.sha256()
        self._size = 0
        self._file = None
        self._path = None
        self._state = "open"  # open -> committed | aborted
        self.stored = None

    @property
    def size(self) -> int:
        return self._size

    def _start(self):
        if self._state != "open":
            raise StoreError("This upload is already finished.")
        fd, self._path = self._store._mkstemp()
        self._file = open(fd, "wb")
        return self._file

    def write(self, chunk) -> None:
        """Hash ``chunk`` and append it to the temporary file; TooLarge (and nothing kept) as soon as
        the total exceeds max_size."""
        f = self._file
        if f is None:
            f = self._start()
        size = self._size + len(chunk)
        if size > self._max_size:
            self.abort()
            raise TooLarge(max_size=self._max_size)
        self._size = size
        self._hash.update(chunk)
        f.write(chunk)

    def commit(self, accept=None) -> Stored:
        """Check the file and store it. ``accept``: the types this upload's kind takes (WrongKind for
        another known type)."""
        if self._state == "committed":
            return self.stored
        if self._state != "open":
            raise StoreError("This upload is already finished.")
        try:
            if self._size == 0:
                raise EmptyFile()
            f = self._file
            f.flush()
            if self._store.fsync:
                os.fsync(f.fileno())
            f.close()
            with open(self._path, "rb") as r:
                head = r.read(HEAD_SIZE)
            mime = detect_mime(head)
            if mime is None or mime not in self._allowed:
                raise UnsupportedType(reason="type" if mime else unknown_type_reason(head))
            if accept is not None and mime not in accept:
                raise WrongKind(mime, accept)
            if not self._trusted:
                if mime != "application/pdf":
                    no_pdf_inside(self._path)
                _CHECKS.get(mime, scan_markup)(self._path)
            thumb = _MISSING
            if mime in IMAGE_MIMES and not self._trusted:
                thumb = check_image(self._path, mime, self._store.max_image_pixels, THUMB_PX,
                                    self._store.thumb_max_pixels)
            sha = self._hash.hexdigest()
            created, stamp = self._store._commit(self._path, sha, self._size, mime)
            if thumb is not _MISSING:
                self._store._keep_thumbnail(sha, thumb)
        except BaseException:
            self.abort()
            raise
        self._state = "committed"
        self._remove_temp()
        self.stored = Stored(sha256=sha, size=self._size, mime=mime, created=created, stamp=stamp)
        return self.stored

    def abort(self) -> None:
        """Forget the upload and remove its temporary file. Idempotent; a no-op after commit()."""
        if self._state == "open":
            self._state = "aborted"
        self._remove_temp()

    def _remove_temp(self):
        f, self._file = self._file, None
        if f is not None:
            try:
                f.close()
            except OSError:
                pass
        path, self._path = self._path, None
        if path is not None:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._state != "committed":
            self.abort()
        return False

    def __del__(self):
        try:
            if self._path is not None:
                self.abort()
        except Exception:
            pass


def _check_pdf(path: str) -> None:
    scan_markup(path)
    check_pdf(path)


def _check_mp4(path: str) -> None:
    check_mp4(path)
    scan_markup(path)


# the whole-file check of each type (images: markup here, then check_image); see content.py
_CHECKS = {"text/plain": check_text, "text/csv": check_text, "application/pdf": _check_pdf, "video/mp4": _check_mp4}


class Store:
    """Content-addressed storage of evidence files. Subclasses implement _mkstemp(), _commit(),
    open(), stat(), modified_at(), stamp(), delete() and iter_all(), and set tmp_dir and temp_prefix."""

    fsync = True  # fsync the temporary file before committing it
    tmp_dir: str
    temp_prefix: str  # the name of every temporary upload file starts with it and ends with ".part"

    def __init__(self, *, max_image_pixels: int = 25_000_000, thumb_max_pixels: int = 16_000_000):
        self.max_image_pixels = max_image_pixels
        self.thumb_max_pixels = thumb_max_pixels  # above it, only JPEG (decoded at reduced scale) has a thumbnail
        self._thumbs = OrderedDict()  # sha256 -> the THUMB_PX thumbnail (or None) made by an upload's commit()
        self._thumbs_lock = threading.Lock()

    # writing -----------------------------------------------------------------------------------
    def writer(self, max_size: int, allowed=ALLOWED_MIMES) -> Writer:
        return Writer(self, max_size, allowed)

    def put(self, stream, max_size: int, allowed=ALLOWED_MIMES, chunk_size=1 << 20) -> Stored:
        """Store everything read from ``stream``: a binary file-like object (readinto() or read()) or
        an iterable of bytes. Reads at most max_size + 1 bytes before TooLarge."""
        with self.writer(max_size, allowed) as w:
            readinto = getattr(stream, "readinto", None)
            read = getattr(stream, "read", None)
            if callable(readinto):
                view = memoryview(bytearray(chunk_size))
                while True:
                    n = readinto(view[:min(chunk_size, max_size - w.size + 1)])
                    if not n:
                        break
                    w.write(view[:n])
            elif callable(read):
                while chunk := read(min(chunk_size, max_size - w.size + 1)):
                    w.write(chunk)
            else:
                for chunk in stream:
                    if chunk:
                        w.write(chunk)
            return w.commit()

    def put_bytes(self, data: bytes, allowed=ALLOWED_MIMES, *, trusted=False) -> Stored:
        with Writer(self, len(data), allowed, trusted=trusted) as w:
            if data:
                w.write(data)
            return w.commit()

    # backend hooks -------------------------------------------------------------------------------
    def _mkstemp(self) -> tuple[int, str]:
        """A new temporary file for a Writer: (fd open for writing, path)."""
        raise NotImplementedError

    def _commit(self, tmp_path: str, sha256: str, size: int, mime: str) -> tuple[bool, object]:
        """Store the checked temporary file as ``sha256`` unless it is already there (never overwrite the
        content). Returns (created, stamp): created is True when it was stored, False when it already
        existed; then its modified time and stamp are refreshed, so that an orphan clean-up running
        meanwhile sees it as recent and a failed upload that created it sees that it is used again. The
        stamp is the object's as this call left it. The caller removes the temp file."""
        raise NotImplementedError

    # reading -------------------------------------------------------------------------------------
    def open(self, sha256: str):
        """A binary file-like object (read(), close(), context manager); KeyError if absent."""
        raise NotImplementedError

    def stat(self, sha256: str) -> int | None:
        raise NotImplementedError

    def iter_all(self):
        raise NotImplementedError

    def modified_at(self, sha256: str) -> float | None:
        """When the object was last stored or reused (seconds since the epoch); None if absent."""
        raise NotImplementedError

    def stamp(self, sha256: str):
        """An opaque value that changes every time the content is stored or reused (compare it with
        Stored.stamp for equality only); None if absent."""
        raise NotImplementedError

    # removing ------------------------------------------------------------------------------------
    def delete(self, sha256: str) -> bool:
        """Remove a stored object (one that no record refers to); True if it was there."""
        raise NotImplementedError

    def stale_temp_files(self, max_age: float, *, remove: bool = False, now: float | None = None) -> list[str]:
        """Temporary upload files untouched for more than max_age seconds (left by killed uploads; a live
        upload writes to its file all the time), removed too when ``remove``. Their paths, sorted."""
        now = time.time() if now is None else now
        stale = []
        for entry in os.scandir(self.tmp_dir):
            if not (entry.name.startswith(self.temp_prefix) and entry.name.endswith(".part")):
                continue
            try:
                if now - entry.stat(follow_symlinks=False).st_mtime <= max_age:
                    continue
                if remove:
                    os.unlink(entry.path)
            except FileNotFoundError:  # finished or removed meanwhile
                continue
            stale.append(entry.path)
        return sorted(stale)

    def exists(self, sha256: str) -> bool:
        return self.stat(sha256) is not None

    def verify(self, sha256: str) -> bool:
        """Re-hash the stored content: True when it still matches its name; False when it does not
        or when the object is missing."""
        try:
            f = self.open(sha256)
        except KeyError:
            return False
        h = hashlib.sha256()
        with f:
            while chunk := f.read(_READ_SIZE):
                h.update(chunk)
        return h.hexdigest() == sha256

    def make_thumbnail(self, sha256: str, max_px: int = THUMB_PX) -> Stored | None:
        """Store (deduplicated) and return a JPEG thumbnail, at most max_px on each side, of a stored
        image; None for an image above thumb_max_pixels with no reduced decode (see images.py). Right after
        its upload, the thumbnail its commit() made from the same decode. KeyError if absent,
        UnsupportedType if not an image, InvalidContent if unreadable."""
        data = self._take_thumbnail(sha256) if max_px == THUMB_PX else _MISSING
        if data is _MISSING:
            with self._open_seekable(sha256) as f:
                mime = detect_mime(f.read(HEAD_SIZE))
                if mime not in IMAGE_MIMES:
                    raise UnsupportedType("Only images have thumbnails.")
                f.seek(0)
                data = thumbnail_jpeg(f, mime, max_px, self.max_image_pixels, self.thumb_max_pixels)
        if data is None:
            return None
        with Writer(self, len(data), ("image/jpeg",), trusted=True) as w:
            w.write(data)
            return w.commit()

    def _keep_thumbnail(self, sha256: str, data: bytes | None) -> None:
        with self._thumbs_lock:
            self._thumbs[sha256] = data
            self._thumbs.move_to_end(sha256)
            while len(self._thumbs) > _KEPT_THUMBS:
                self._thumbs.popitem(last=False)

    def _take_thumbnail(self, sha256: str):
        with self._thumbs_lock:
            return self._thumbs.pop(sha256, _MISSING)

    def _open_seekable(self, sha256: str):
        f = self.open(sha256)
        if getattr(f, "seekable", lambda: False)():
            return f
        with f:
            spool = tempfile.SpooledTemporaryFile(max_size=16 << 20)
            while chunk := f.read(_READ_SIZE):
                spool.write(chunk)
        spool.seek(0)
        return spool
