"""s3:// backend for S3 and S3-compatible stores (MinIO, Ceph, moto...): objects under
``<prefix>/ab/cd/<sha256>``. boto3 is imported only when an S3Store is created.

Uploads are spooled to a local temporary file while hashing; once checked, the object is uploaded only
when head_object says it is absent, with ``If-None-Match: *`` (the store refuses to overwrite an object
a concurrent writer created in between) and its SHA-256 checksum (the store rejects corrupted bodies).
An upload of content already stored copies the object onto itself with new metadata: that refreshes its
LastModified (an orphan clean-up then sees it as recent) and its ``stamp`` metadata, a random value
(LastModified alone has whole seconds: two uploads within one second would leave it unchanged).
"""
import base64
import os
import re
import tempfile
import threading
import uuid

from .base import Store, is_sha256, shard

_KEY_TAIL = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")
_STAMP = "stamp"  # user metadata (x-amz-meta-stamp)


class S3Store(Store):
    fsync = False  # the local spool file is only read back, never kept
    temp_prefix = "evidence-upload-"

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 region: str | None = None, tmp_dir: str | None = None, addressing_style: str | None = None,
                 max_image_pixels: int = 25_000_000, thumb_max_pixels: int = 16_000_000, client=None):
        super().__init__(max_image_pixels=max_image_pixels, thumb_max_pixels=thumb_max_pixels)
        if not bucket:
            raise ValueError("an s3:// store needs a bucket name")
        self.bucket = bucket
        prefix = prefix.strip("/")
        self.prefix = f"{prefix}/" if prefix else ""
        self.tmp_dir = tmp_dir or tempfile.gettempdir()
        os.makedirs(self.tmp_dir, exist_ok=True)
        if client is None:
            import boto3  # only here: importing evidence_store never loads boto3
            from botocore.config import Config

            style = addressing_style or ("path" if endpoint_url else "auto")
            client = boto3.session.Session(botocore_session=_botocore_session()).client(
                "s3", endpoint_url=endpoint_url, region_name=region,
                config=Config(s3={"addressing_style": style}, retries={"mode": "standard"},
                              max_pool_connections=32))
        self.client = client

    def __repr__(self):
        return f"S3Store(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def key(self, sha256: str) -> str:
        if not is_sha256(sha256):
            raise KeyError(sha256)
        return self.prefix + shard(sha256)

    def _mkstemp(self):
        return tempfile.mkstemp(prefix=self.temp_prefix, suffix=".part", dir=self.tmp_dir)

    def _head(self, key: str):
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _status(exc) == 404 or _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def _commit(self, tmp_path, sha256, size, mime):
        from botocore.exceptions import ClientError

        key = self.key(sha256)
        stamp = uuid.uuid4().hex
        checksum = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
        conditional = {"IfNoneMatch": "*"}
        for _attempt in range(4):
            if self._head(key) is not None:
                if self._touch(key, mime, stamp):
                    return False, stamp
                continue  # removed in between (an orphan clean-up): store it again
            with open(tmp_path, "rb") as body:
                try:
                    self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentLength=size,
                                           ContentType=mime, ChecksumSHA256=checksum, Metadata={_STAMP: stamp},
                                           **conditional)
                    return True, stamp
                except ClientError as exc:
                    if (_status(exc) in (409, 412)
                            or _code(exc) in ("PreconditionFailed", "ConditionalRequestConflict")):
                        continue  # a concurrent writer got there first: reuse (and refresh) its object
                    if conditional and _code(exc) == "NotImplemented":
                        conditional = {}  # a store without conditional writes: same bytes, same key
                        continue
                    raise
        raise RuntimeError(f"could not store {key} after concurrent conflicts")

    def _touch(self, key, mime, stamp) -> bool:
        """Copy the object onto itself with a new stamp (new LastModified too); False if it is gone."""
        from botocore.exceptions import ClientError

        try:
            self.client.copy_object(Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": key},
                                    MetadataDirective="REPLACE", ContentType=mime, Metadata={_STAMP: stamp},
                                    ChecksumAlgorithm="SHA256")
        except ClientError as exc:
            if _status(exc) == 404 or _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def open(self, sha256):
        from botocore.exceptions import ClientError

        key = self.key(sha256)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except ClientError as exc:
            if _status(exc) == 404 or _code(exc) in ("NoSuchKey", "404", "NotFound"):
                raise KeyError(sha256) from None
            raise

    def stat(self, sha256):
        try:
            key = self.key(sha256)
        except KeyError:
            return None
        head = self._head(key)
        return None if head is None else head["ContentLength"]

    def modified_at(self, sha256):
        try:
            head = self._head(self.key(sha256))
        except KeyError:
            return None
        return None if head is None else head["LastModified"].timestamp()

    def stamp(self, sha256):
        try:
            head = self._head(self.key(sha256))
        except KeyError:
            return None
        # "" for an object stored before stamps existed: the creator's stamp is never ""
        return None if head is None else (head.get("Metadata") or {}).get(_STAMP, "")

    def delete(self, sha256):
        try:
            key = self.key(sha256)
        except KeyError:
            return False
        if self._head(key) is None:
            return False
        self.client.delete_object(Bucket=self.bucket, Key=key)
        return True

    def iter_all(self):
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for obj in page.get("Contents", ()):
                m = _KEY_TAIL.fullmatch(obj["Key"][len(self.prefix):])
                if m and m.group(3).startswith(m.group(1) + m.group(2)):
                    yield m.group(3)


_loader = None
_loader_lock = threading.Lock()


def _botocore_session():
    """A new botocore session (credentials and configuration are read afresh) sharing one data loader,
    so that the service models are parsed once per process rather than once per store."""
    import botocore.session

    global _loader
    session = botocore.session.get_session()
    with _loader_lock:
        if _loader is None:
            _loader = session.get_component("data_loader")
        else:
            session.register_component("data_loader", _loader)
    return session


def _code(exc) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc) -> int | None:
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
