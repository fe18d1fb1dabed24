"""The ``store`` fixture runs every test against both backends: a FileStore in tmp_path and an
S3Store against a real S3-compatible HTTP server (moto's server mode, started once per session)."""
import datetime
import os
import time
import uuid
from pathlib import Path

import pytest

from evidence_store import open_store

BUCKET = "evidence-test"


@pytest.fixture(scope="session")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as mp:
        # dummy credentials for boto3; never read a real profile or credentials file
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        mp.setenv("AWS_CONFIG_FILE", os.devnull)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            mp.delenv(name, raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            endpoint = f"http://{host}:{port}"
            import boto3

            boto3.session.Session().client("s3", endpoint_url=endpoint, region_name="us-east-1") \
                .create_bucket(Bucket=BUCKET)
            yield endpoint
        finally:
            server.stop()


class FileBackend:
    name = "file"

    def __init__(self, tmp_path: Path):
        self.root = tmp_path / "store"
        self.url = f"file://{self.root}"
        self.store = open_store(self.url)

    def open_store(self, **kw):
        return open_store(self.url, **kw)

    def raw_names(self):
        """Every stored object, as its path below the root (temporary files excluded)."""
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*")
                      if p.is_file() and p.parent != self.root / "tmp")

    def leftovers(self):
        """Temporary files still around."""
        return sorted(os.listdir(self.root / "tmp"))

    def tamper(self, sha, data):
        path = Path(self.store.path(sha))
        path.chmod(0o644)
        path.write_bytes(data)

    def backdate(self, sha, seconds):
        """Make the object look stored ``seconds`` ago."""
        then = time.time() - seconds
        os.utime(self.store.path(sha), (then, then))


class S3Backend:
    name = "s3"

    def __init__(self, tmp_path: Path, endpoint: str):
        self.prefix = f"t-{uuid.uuid4().hex[:12]}/evidence"
        self.spool = tmp_path / "spool"
        self.url = f"s3://{BUCKET}/{self.prefix}?endpoint_url={endpoint}&region=us-east-1&tmp_dir={self.spool}"
        self.store = open_store(self.url)

    def open_store(self, **kw):
        return open_store(self.url, **kw)

    def raw_names(self):
        pages = self.store.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=self.prefix)
        return sorted(obj["Key"][len(self.prefix) + 1:] for page in pages for obj in page.get("Contents", ()))

    def leftovers(self):
        return sorted(os.listdir(self.spool))

    def tamper(self, sha, data):
        self.store.client.put_object(Bucket=BUCKET, Key=self.store.key(sha), Body=data)

    def backdate(self, sha, seconds):
        """Make the object look stored ``seconds`` ago: S3 has no call for that, so this changes moto's
        own record of the object (the server runs in this process)."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.s3.models import s3_backends

        obj = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].buckets[BUCKET].keys[self.store.key(sha)]
        obj.last_modified -= datetime.timedelta(seconds=seconds)


@pytest.fixture(params=["file", "s3"])
def backend(request, tmp_path):
    if request.param == "file":
        return FileBackend(tmp_path)
    return S3Backend(tmp_path, request.getfixturevalue("s3_endpoint"))


@pytest.fixture
def store(backend):
    return backend.store
