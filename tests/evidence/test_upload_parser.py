"""The streaming multipart parser, with tiny chunks so boundaries fall across reads."""
import io

import pytest

from app.errors import Invalid, TooLarge
from app.evidence import upload as upload_module


class FakeWriter:
    def __init__(self):
        self.data, self.aborted = bytearray(), False

    def write(self, chunk):
        self.data.extend(chunk)

    def abort(self):
        self.aborted = True


class FakeStore:
    def writer(self, max_size):
        self.last = FakeWriter()
        return self.last


class FakeRequest:
    def __init__(self, body, boundary="XyZ"):
        self.stream = io.BytesIO(body)
        self.headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        self.content_length = len(body)


def body(parts, boundary="XyZ"):
    out = b"preamble ignored\r\n"
    for headers, content in parts:
        out += f"--{boundary}\r\n{headers}\r\n\r\n".encode() + content + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


FILE = b"--XyZ not after a line break\r\n--XyY near miss\r\n--Xy" + bytes(range(256)) * 3 + b"\r\n-"


@pytest.mark.parametrize("chunk", [1, 5, 7, 64, 1 << 18])
def test_fields_and_file_survive_any_chunking(monkeypatch, chunk):
    monkeypatch.setattr(upload_module, "CHUNK", chunk)
    raw = body([('Content-Disposition: form-data; name="kind"', "照片".encode()),
                ('Content-Disposition: form-data; name="file"; filename="../../x.png"\r\nContent-Type: image/png', FILE),
                ('Content-Disposition: form-data; name="file"; filename="second.png"', b"ignored"),
                ('Content-Disposition: form-data; name="description"', b"two\r\nlines")])
    store = FakeStore()
    result = upload_module.parse_upload(FakeRequest(raw), store, max_size=10_000)
    assert bytes(store.last.data) == FILE
    assert result.fields == {"kind": "照片", "description": "two\r\nlines"}
    assert result.filename == "../../x.png"  # metadata only; the store names files by hash


@pytest.mark.parametrize("raw", [
    b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nno closing boundary",
    b"no boundary at all",
    b"--XyZ\r\nContent-Disposition: form-data; name=\"kind\"\r\n" + b"x" * 20_000,
])
def test_malformed_bodies_are_422_and_abort_the_writer(raw):
    store = FakeStore()
    with pytest.raises(Invalid):
        upload_module.parse_upload(FakeRequest(raw), store, max_size=10_000)
    assert not hasattr(store, "last") or store.last.aborted


def test_missing_file_part_is_422():
    with pytest.raises(Invalid) as err:
        upload_module.parse_upload(FakeRequest(body([('Content-Disposition: form-data; name="kind"', b"photo")])),
                                   FakeStore(), max_size=100)
    assert err.value.details == {"file": "required"}


def test_declared_length_far_over_the_limit_is_refused_before_reading():
    request = FakeRequest(b"x" * 10)
    request.content_length = 50 * 1024 * 1024
    with pytest.raises(TooLarge):
        upload_module.parse_upload(request, FakeStore(), max_size=20 * 1024 * 1024)
    assert request.stream.tell() == 0


def test_an_oversized_field_is_refused():
    raw = body([('Content-Disposition: form-data; name="description"', b"x" * (upload_module.FIELD_LIMIT + 10))])
    with pytest.raises(Invalid):
        upload_module.parse_upload(FakeRequest(raw), FakeStore(), max_size=100)
