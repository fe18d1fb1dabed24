"""file:// backend: objects in <root>/ab/cd/<sha256>, temporary files in <root>/tmp/.

A checked temporary file is fsynced, then hard-linked into place: os.link() never replaces an existing
file, so concurrent writers of the same content all succeed and exactly one of them creates it. The
others refresh its modified time (os.utime): the object then looks recent to an orphan clean-up, and its
modified time in nanoseconds is the object's stamp.
"""
import os
import tempfile
import time

from .base import Store, is_sha256, shard

_HEX = frozenset("0123456789abcdef")


def _is_hex2(name: str) -> bool:
    return len(name) == 2 and set(name) <= _HEX


class FileStore(Store):
    temp_prefix = "upload-"

    def __init__(self, root: str, *, max_image_pixels: int = 25_000_000, thumb_max_pixels: int = 16_000_000):
        super().__init__(max_image_pixels=max_image_pixels, thumb_max_pixels=thumb_max_pixels)
        if not os.path.isabs(root):
            raise ValueError(f"the store's folder must be an absolute path: {root!r}")
        self.root = os.path.normpath(root)
        self.tmp_dir = os.path.join(self.root, "tmp")
        os.makedirs(self.tmp_dir, exist_ok=True)

    def __repr__(self):
        return f"FileStore({self.root!r})"

    def path(self, sha256: str) -> str:
        """Where the object is (or would be) on disk; KeyError for a name that is not a SHA-256."""
        if not is_sha256(sha256):
            raise KeyError(sha256)
        return os.path.join(self.root, *shard(sha256).split("/"))

    def _mkstemp(self):
        return tempfile.mkstemp(prefix=self.temp_prefix, suffix=".part", dir=self.tmp_dir)

    def _commit(self, tmp_path, sha256, size, mime):
        final = self.path(sha256)
        folder = os.path.dirname(final)
        os.makedirs(folder, exist_ok=True)
        os.chmod(tmp_path, 0o444)  # stored objects are never modified
        for _attempt in range(3):
            stamp = os.stat(tmp_path).st_mtime_ns  # read before the link: afterwards a reuse may change it
            try:
                os.link(tmp_path, final)
            except FileExistsError:
                try:
                    return False, _touch(final)
                except FileNotFoundError:
                    continue  # removed in between (an orphan clean-up): store it again
            _fsync_dir(folder)
            return True, stamp
        raise RuntimeError(f"could not store {final}: removed and recreated concurrently")

    def open(self, sha256):
        try:
            return open(self.path(sha256), "rb")
        except FileNotFoundError:
            raise KeyError(sha256) from None

    def stat(self, sha256):
        try:
            return os.stat(self.path(sha256)).st_size
        except (KeyError, FileNotFoundError):
            return None

    def modified_at(self, sha256):
        try:
            return os.stat(self.path(sha256)).st_mtime
        except (KeyError, FileNotFoundError):
            return None

    def stamp(self, sha256):
        try:
            return os.stat(self.path(sha256)).st_mtime_ns
        except (KeyError, FileNotFoundError):
            return None

    def delete(self, sha256):
        try:
            path = self.path(sha256)
            os.unlink(path)
        except (KeyError, FileNotFoundError):
            return False
        _fsync_dir(os.path.dirname(path))
        return True

    def iter_all(self):
        for d1 in sorted(e.name for e in os.scandir(self.root) if e.is_dir() and _is_hex2(e.name)):
            p1 = os.path.join(self.root, d1)
            for d2 in sorted(e.name for e in os.scandir(p1) if e.is_dir() and _is_hex2(e.name)):
                p2 = os.path.join(p1, d2)
                for name in sorted(e.name for e in os.scandir(p2) if e.is_file()):
                    if is_sha256(name) and name.startswith(d1 + d2):
                        yield name


def _touch(path: str) -> int:
    """Set the file's modified time to now, and never to the value it had (two writes within one tick
    of the file system's clock would otherwise leave the stamp unchanged). The new value, in ns."""
    now = max(time.time_ns(), os.stat(path).st_mtime_ns + 1)
    os.utime(path, ns=(now, now))
    return now


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
