"""open_store(): URLs for the two backends."""
import pytest

from evidence_store import FileStore, S3Store, open_store

from .conftest import BUCKET


def test_file_url_creates_the_folder(tmp_path):
    root = tmp_path / "a" / "b"
    store = open_store(f"file://{root}")
    assert isinstance(store, FileStore)
    assert (root / "tmp").is_dir()
    assert store.put_bytes(b"note\n").created
    assert open_store(f"file://localhost{root}").exists(store.put_bytes(b"note\n").sha256)


def test_max_image_pixels_is_passed_on(tmp_path):
    assert open_store(f"file://{tmp_path}", max_image_pixels=123).max_image_pixels == 123
    assert open_store(f"file://{tmp_path}").max_image_pixels == 25_000_000


@pytest.mark.parametrize("url", ["file://relative/dir", "file:relative", "ftp://host/x", "/abs/path",
                                 "s3:///no-bucket", "s3://bucket/p?unknown=1"])
def test_bad_urls(url):
    with pytest.raises(ValueError):
        open_store(url)


def test_s3_url(s3_endpoint, tmp_path):
    store = open_store(f"s3://{BUCKET}//some/prefix/?endpoint_url={s3_endpoint}&region=us-east-1"
                       f"&tmp_dir={tmp_path / 'spool'}")
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix, store.tmp_dir) == (BUCKET, "some/prefix/", str(tmp_path / "spool"))
    digest = store.put_bytes(b"x,y\n1,2\n").sha256
    assert store.key(digest) == f"some/prefix/{digest[:2]}/{digest[2:4]}/{digest}"
    assert store.client.head_object(Bucket=BUCKET, Key=store.key(digest))["ContentType"] == "text/csv"


def test_s3_url_without_prefix(s3_endpoint):
    store = open_store(f"s3://{BUCKET}?endpoint_url={s3_endpoint}")
    assert store.prefix == ""
    digest = store.put_bytes(b"at the bucket root\n").sha256
    assert store.key(digest) == f"{digest[:2]}/{digest[2:4]}/{digest}"
    assert digest in set(store.iter_all())
