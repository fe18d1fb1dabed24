"""The session-signing key when SECRET_KEY is not set: random, made on the first start, kept in the
instance folder readable by this user only, and reused by every later start and every worker."""
import os
import secrets

MIN_KEY_BYTES = 32


def instance_secret_key(instance_path):
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        # written whole under a name of its own, then linked into place: a process starting at the same
        # moment either links first (and the other reads its key) or finds the file complete
        tmp = f"{path}.{os.getpid()}.{secrets.token_hex(8)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(MIN_KEY_BYTES) + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process was first: use its key
        finally:
            os.unlink(tmp)
    with open(path, encoding="ascii") as f:
        key = f.read().strip()
    if len(key.encode()) < MIN_KEY_BYTES:
        raise RuntimeError(f"Refusing to start: {path} holds no key of {MIN_KEY_BYTES} bytes; delete it to make a new one")
    return key
