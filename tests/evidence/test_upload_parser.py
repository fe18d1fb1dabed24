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
                ('Content-Disposition: form-data; name="file"; filename="C:\\\\Users\\\\me\\\\x.png"\r\nContent-Type: image/png', FILE),
                ('Content-Disposition: form-data; name="file"; filename="second.png"', b"ignored"),
                ('Content-Disposition: form-data; name="description"', b"two\r\nlines")])
    store = FakeStore()
    result = upload_module.parse_upload(FakeRequest(raw), store, max_size=10_000)
    assert bytes(store.last.data) == FILE
    assert result.fields == {"kind": "照片", "description": "two\r\nlines"}
    assert result.filename == "x.png"  # an old browser's full path: the name without it (the store names files by hash)


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


# Limits from the first byte (issue 11, finding 7): each holds even when the whole body arrives in one read.
BIG_CHUNK = 1 << 20


def _refused(raw, monkeypatch, boundary="XyZ", chunk=BIG_CHUNK):
    monkeypatch.setattr(upload_module, "CHUNK", chunk)
    store = FakeStore()
    with pytest.raises(Invalid) as err:
        upload_module.parse_upload(FakeRequest(raw, boundary), store, max_size=10_000_000)
    assert not hasattr(store, "last") or store.last.aborted
    return err.value


FILE_PART = ('Content-Disposition: form-data; name="file"; filename="a.png"', b"\x89PNG data")


@pytest.mark.parametrize("chunk", [7, BIG_CHUNK])
def test_a_long_preamble_is_refused(monkeypatch, chunk):
    raw = b"p" * (upload_module.HEADER_LIMIT + 1) + body([FILE_PART])
    _refused(raw, monkeypatch, chunk=chunk)


@pytest.mark.parametrize("chunk", [7, BIG_CHUNK])
def test_a_long_part_header_is_refused(monkeypatch, chunk):
    raw = body([('Content-Disposition: form-data; name="kind"\r\nX-Pad: ' + "p" * upload_module.HEADER_LIMIT,
                 b"photo"), FILE_PART])
    _refused(raw, monkeypatch, chunk=chunk)


def test_many_header_lines_in_a_part_are_refused(monkeypatch):
    raw = body([('Content-Disposition: form-data; name="kind"' + "\r\nX: y" * 40, b"photo"), FILE_PART])
    _refused(raw, monkeypatch)


@pytest.mark.parametrize("chunk", [7, BIG_CHUNK])
def test_a_field_over_its_limit_is_refused_before_the_file(monkeypatch, chunk):
    raw = body([('Content-Disposition: form-data; name="description"', b"x" * (upload_module.FIELD_LIMIT + 1)),
                FILE_PART])
    limit = upload_module.FIELD_LIMIT
    assert _refused(raw, monkeypatch, chunk=chunk).details == {"description": f"at most {limit} bytes"}


def test_thousands_of_parts_are_refused(monkeypatch):
    raw = body([(f'Content-Disposition: form-data; name="f{i}"', b"v") for i in range(5000)] + [FILE_PART])
    _refused(raw, monkeypatch)


def test_the_form_fields_together_are_bounded(monkeypatch):
    parts = [(f'Content-Disposition: form-data; name="f{i}"', b"v" * (upload_module.FIELD_LIMIT - 1))
             for i in range(upload_module.MAX_PARTS - 1)]
    _refused(body(parts + [FILE_PART]), monkeypatch)


def test_a_skipped_second_file_counts_against_the_form_limit(monkeypatch):
    extra = ('Content-Disposition: form-data; name="other"; filename="b.bin"', b"z" * (upload_module.FORM_LIMIT + 1))
    _refused(body([FILE_PART, extra]), monkeypatch)


def test_a_long_boundary_is_refused(monkeypatch):
    boundary = "b" * (upload_module.MAX_BOUNDARY + 1)
    _refused(body([FILE_PART], boundary=boundary), monkeypatch, boundary=boundary)


@pytest.mark.parametrize("part", [
    ('Content-Disposition: form-data; name="description"', b"bad\x00text"),
    ('Content-Disposition: form-data; name="kind\x00"', b"photo"),
])
def test_nul_in_a_field_is_refused(monkeypatch, part):
    _refused(body([part, FILE_PART]), monkeypatch)


@pytest.mark.parametrize("filename", ["a\x00.png", "a\u202egnp.exe", "tab\there.png", "a\x7f.png",
                                      "长" * 86 + ".png", "../../x.png", "a/../../b.png", "..\\\\x.png"])  # 86 × 3 bytes + 4 > 255 bytes
def test_unsafe_filenames_are_refused(monkeypatch, filename):
    part = (f'Content-Disposition: form-data; name="file"; filename="{filename}"', b"data")
    raw = body([part]).replace(filename.encode("utf-8", "surrogatepass"), filename.encode())
    assert set(_refused(raw, monkeypatch).details) == {"filename"}


@pytest.mark.parametrize("sent, kept", [("C:\\\\Users\\\\me\\\\x.png", "x.png"),
                                        ("/etc/passwd", "passwd"), ("破损 照片.png", "破损 照片.png")])
def test_filenames_keep_only_their_last_path_component(sent, kept):
    raw = body([(f'Content-Disposition: form-data; name="file"; filename="{sent}"', b"data")])
    assert upload_module.parse_upload(FakeRequest(raw), FakeStore(), max_size=100).filename == kept


@pytest.mark.parametrize("chunk", [1, 7, BIG_CHUNK])
def test_an_empty_field_without_a_line_break_before_the_boundary_is_read(monkeypatch, chunk):
    """Werkzeug's test client writes an empty field as its headers followed at once by the boundary."""
    monkeypatch.setattr(upload_module, "CHUNK", chunk)
    raw = (b'--XyZ\r\nContent-Disposition: form-data; name="description"\r\n\r\n'
           b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nDATA\r\n--XyZ--\r\n')
    store = FakeStore()
    result = upload_module.parse_upload(FakeRequest(raw), store, max_size=100)
    assert result.fields == {"description": ""} and bytes(store.last.data) == b"DATA"


def test_fields_are_checked_before_the_first_file_byte_is_stored(monkeypatch):
    raw = body([('Content-Disposition: form-data; name="csrf_token"', b"forged"), FILE_PART])
    store = FakeStore()

    def check(fields):
        assert not hasattr(store, "last")  # no writer yet
        raise Invalid("bad token", {"csrf_token": "invalid"})

    with pytest.raises(Invalid):
        upload_module.parse_upload(FakeRequest(raw), store, max_size=100, check_fields=check)
    assert not hasattr(store, "last")
