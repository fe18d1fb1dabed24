"""The evidence store's behaviour, identical on both backends (see the ``store`` / ``backend`` fixtures)."""
import hashlib
import io
import os
import threading

import pytest
from PIL import Image

from evidence_store import (ALLOWED_MIMES, EmptyFile, InvalidContent, Stored, StoreError, TooLarge,
                            UnsupportedType)

from .samples import EXE, ZIP, image_bytes, jpeg_with_orientation, mp4_bytes, pdf_bytes, png_claiming


def sha(data):
    return hashlib.sha256(data).hexdigest()


def read_all(store, digest):
    with store.open(digest) as f:
        return f.read()


def assert_nothing_left(backend):
    assert backend.raw_names() == []
    assert list(backend.store.iter_all()) == []
    assert backend.leftovers() == []


# --- storing -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [1, 1000, 1001, 65_537, 1_500_000])
def test_put_hashes_sizes_and_keeps_the_bytes(backend, size):
    store = backend.store
    data = pdf_bytes(size) if size >= 9 else b"x" * size
    stored = store.put(io.BytesIO(data), max_size=2_000_000, chunk_size=1000)
    assert stored == Stored(sha256=sha(data), size=size,
                            mime="application/pdf" if size >= 9 else "text/plain", created=True)
    assert read_all(store, stored.sha256) == data
    assert store.stat(stored.sha256) == size
    assert store.verify(stored.sha256)
    assert backend.leftovers() == []


def test_objects_are_sharded_by_hash(backend):
    digest = backend.store.put_bytes(b"hello evidence\n").sha256
    assert backend.raw_names() == [f"{digest[:2]}/{digest[2:4]}/{digest}"]


def test_writer_takes_chunks_and_put_takes_generators(store):
    data = pdf_bytes(9 + 70_000 + 3 + (1 << 20) + 500)
    cuts = [0, 9, 70_009, 70_009, 70_012, len(data)]
    parts = [data[a:b] for a, b in zip(cuts, cuts[1:])]
    with store.writer(max_size=len(data)) as w:
        for part in parts:
            w.write(part)
        stored = w.commit()
    assert (stored.sha256, stored.size, stored.created) == (sha(data), len(data), True)
    assert w.commit() == stored  # committing again just answers the same
    again = store.put((p for p in parts), max_size=len(data))
    assert again == Stored(sha256=sha(data), size=len(data), mime="application/pdf", created=False)
    assert read_all(store, stored.sha256) == data


def test_same_content_twice_is_stored_once(backend):
    store = backend.store
    data = image_bytes("PNG")
    first = store.put_bytes(data)
    second = store.put(io.BytesIO(data), max_size=len(data))
    assert first.created is True and second.created is False
    assert first.sha256 == second.sha256 == sha(data)
    assert second.mime == "image/png" and second.size == len(data)
    assert backend.raw_names() == [f"{first.sha256[:2]}/{first.sha256[2:4]}/{first.sha256}"]
    assert backend.leftovers() == []


def test_concurrent_uploads_of_the_same_content_all_succeed_with_one_object(backend):
    store = backend.store
    data = pdf_bytes(300_000)
    n = 8
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def upload(i):
        try:
            with store.writer(max_size=len(data)) as w:
                barrier.wait()
                for start in range(0, len(data), 50_000):
                    w.write(data[start:start + 50_000])
                results[i] = w.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert {(r.sha256, r.size, r.mime) for r in results} == {(sha(data), len(data), "application/pdf")}
    created = sum(r.created for r in results)
    if backend.name == "file":
        assert created == 1  # os.link: exactly one writer creates it
    else:
        assert created >= 1  # moto checks If-None-Match without a lock; real S3 makes it exactly one
    assert list(store.iter_all()) == [sha(data)]
    assert read_all(store, sha(data)) == data
    assert backend.leftovers() == []


def test_concurrent_uploads_of_different_contents_do_not_mix(store):
    blobs = [pdf_bytes(100_000 + i) for i in range(6)]
    results = [None] * len(blobs)

    def upload(i):
        results[i] = store.put(io.BytesIO(blobs[i]), max_size=200_000, chunk_size=7_000)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(len(blobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.sha256 for r in results] == [sha(b) for b in blobs]
    assert sorted(store.iter_all()) == sorted(sha(b) for b in blobs)
    assert all(read_all(store, sha(b)) == b for b in blobs)


@pytest.mark.parametrize("data, mime", [
    (image_bytes("JPEG"), "image/jpeg"),
    (image_bytes("PNG", mode="RGBA", color=(1, 2, 3, 4)), "image/png"),
    (image_bytes("GIF", mode="P", color=3), "image/gif"),
    (image_bytes("WEBP"), "image/webp"),
    (pdf_bytes(5000), "application/pdf"),
    (mp4_bytes(), "video/mp4"),
    ("说明：买家收到的商品有破损。\n".encode(), "text/plain"),
    (b"order,amount_fen\n1001,2500\n1002,990\n", "text/csv"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_every_accepted_type_is_stored_with_its_sniffed_mime(store, data, mime):
    assert mime in ALLOWED_MIMES
    stored = store.put_bytes(data)
    assert (stored.mime, stored.size, stored.sha256) == (mime, len(data), sha(data))
    assert read_all(store, stored.sha256) == data


# --- rejections leave nothing behind ------------------------------------------------------------------

class CountingStream:
    """A generator-fed upload that counts how many bytes were pulled from it."""

    def __init__(self, total, chunk=64 * 1024):
        self.total, self.chunk, self.pulled = total, chunk, 0

    def __iter__(self):
        first = True
        while self.pulled < self.total:
            n = min(self.chunk, self.total - self.pulled)
            block = (b"%PDF-1.7\n" + b"\x01" * (n - 9)) if first else b"\x02" * n
            first = False
            self.pulled += n
            yield block


def test_too_large_stops_reading_as_soon_as_the_limit_is_passed(backend):
    stream = CountingStream(total=50 * 1024 * 1024)
    with pytest.raises(TooLarge) as info:
        backend.store.put(stream, max_size=200_000)
    assert info.value.message
    assert stream.pulled <= 200_000 + stream.chunk  # at most one chunk past the limit, not 50 MB
    assert_nothing_left(backend)


def test_too_large_reads_at_most_one_byte_past_the_limit_from_a_file(backend):
    body = io.BytesIO(pdf_bytes(3_000_000))
    with pytest.raises(TooLarge):
        backend.store.put(body, max_size=100_000)
    assert body.tell() == 100_001
    assert_nothing_left(backend)


def test_writer_accepts_exactly_max_size_and_raises_on_the_next_byte(backend):
    data = pdf_bytes(10_000)
    with backend.store.writer(max_size=10_000) as w:
        w.write(data)
        assert w.commit().size == 10_000
    with backend.store.writer(max_size=10_000) as w:
        w.write(data[:9_999])
        with pytest.raises(TooLarge):
            w.write(b"xy")
        assert backend.leftovers() == []  # removed at once, not only when the block ends
        with pytest.raises(StoreError):
            w.write(b"more")
        with pytest.raises(StoreError):
            w.commit()
    assert backend.raw_names() == [f"{sha(data)[:2]}/{sha(data)[2:4]}/{sha(data)}"]


@pytest.mark.parametrize("data", [ZIP, EXE, b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64,
                                  b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64,
                                  "中文".encode("gb18030") * 10],
                         ids=["zip", "exe", "elf", "heic", "gbk-text"])
def test_unsupported_type_is_detected_from_content(backend, data):
    with pytest.raises(UnsupportedType):
        backend.store.put(io.BytesIO(data), max_size=1 << 20)
    assert_nothing_left(backend)


def test_type_outside_the_allowed_list_is_rejected(backend):
    with pytest.raises(UnsupportedType):
        backend.store.put_bytes(pdf_bytes(2000), allowed=("image/png", "image/jpeg"))
    with pytest.raises(UnsupportedType):
        backend.store.put(io.BytesIO(b"a,b\n1,2\n"), max_size=100, allowed=("text/plain",))
    assert_nothing_left(backend)


def test_text_with_binary_after_the_head_is_rejected(backend):
    data = b"looks like a note\n" * 2000 + b"\x00\x01\x02 payload"
    with pytest.raises(UnsupportedType):
        backend.store.put_bytes(data)
    assert_nothing_left(backend)


def test_empty_file_is_rejected(backend):
    with pytest.raises(EmptyFile):
        backend.store.put(io.BytesIO(b""), max_size=100)
    with pytest.raises(EmptyFile):
        backend.store.put(iter([b"", b""]), max_size=100)
    with pytest.raises(EmptyFile):
        backend.store.put_bytes(b"")
    assert_nothing_left(backend)


def test_decompression_bomb_is_rejected_from_its_header(backend):
    bomb = png_claiming(50_000, 50_000)  # 2.5 gigapixels in a 70-byte file
    assert len(bomb) < 100
    with pytest.raises(InvalidContent):
        backend.store.put_bytes(bomb)
    assert_nothing_left(backend)


def test_image_over_the_store_pixel_limit_is_rejected_without_decoding(backend, monkeypatch):
    from PIL import ImageFile

    decoded = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda im: decoded.append(im) or real_load(im))
    store = backend.open_store(max_image_pixels=10_000)
    small = image_bytes("PNG", size=(100, 100))
    assert store.put_bytes(small).created
    decoded.clear()
    store_names = backend.raw_names()
    with pytest.raises(InvalidContent):
        store.put_bytes(image_bytes("PNG", size=(101, 100)))
    assert decoded == []
    assert backend.raw_names() == store_names and backend.leftovers() == []


def test_pillow_bomb_warning_counts_as_invalid_content(backend, monkeypatch):
    from PIL import Image as PILImage

    # between Pillow's warning and error thresholds, and under this store's own limit
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 5_000)
    store = backend.open_store(max_image_pixels=10**9)
    with pytest.raises(InvalidContent):
        store.put_bytes(image_bytes("PNG", size=(80, 80)))
    assert_nothing_left(backend)


@pytest.mark.parametrize("data", [
    b"\xff\xd8\xff\xe0" + os.urandom(2000),                        # JPEG magic + garbage
    image_bytes("JPEG", size=(200, 200))[:700],                      # truncated JPEG
    image_bytes("PNG", size=(200, 200))[:-40],                       # truncated PNG
    b"\x89PNG\r\n\x1a\n" + os.urandom(500),                          # PNG magic + garbage
    b"GIF89a" + os.urandom(300),
    b"RIFF\x00\x10\x00\x00WEBPVP8 " + os.urandom(300),
], ids=["jpeg-garbage", "jpeg-truncated", "png-truncated", "png-garbage", "gif-garbage", "webp-garbage"])
def test_corrupt_image_is_rejected(backend, data):
    with pytest.raises(InvalidContent):
        backend.store.put_bytes(data)
    assert_nothing_left(backend)


def test_png_with_a_bad_crc_is_rejected(backend):
    data = bytearray(image_bytes("PNG", size=(30, 30)))
    data[-20] ^= 0xFF  # inside the IDAT chunk: its CRC no longer matches
    with pytest.raises(InvalidContent):
        backend.store.put_bytes(bytes(data))
    assert_nothing_left(backend)


def test_exception_inside_the_writer_block_leaves_nothing(backend):
    with pytest.raises(RuntimeError):
        with backend.store.writer(max_size=1 << 20) as w:
            w.write(pdf_bytes(5000))
            assert len(backend.leftovers()) == 1
            raise RuntimeError("client went away")
    assert_nothing_left(backend)
    w.abort()  # idempotent
    w.abort()


def test_explicit_abort_leaves_nothing(backend):
    w = backend.store.writer(max_size=1 << 20)
    w.write(pdf_bytes(5000))
    w.abort()
    w.abort()
    with pytest.raises(StoreError):
        w.commit()
    assert_nothing_left(backend)


def test_error_classes_carry_a_message():
    for cls in (TooLarge, UnsupportedType, EmptyFile, InvalidContent):
        err = cls()
        assert isinstance(err, StoreError) and err.message and str(err) == err.message
    assert StoreError("custom").message == "custom"


# --- reading -----------------------------------------------------------------------------------------

def test_open_exists_stat_and_iter_all(store):
    blobs = [b"first note\n", pdf_bytes(4321), image_bytes("GIF", mode="P", color=7)]
    digests = [store.put_bytes(b).sha256 for b in blobs]
    assert sorted(store.iter_all()) == sorted(digests)
    for digest, data in zip(digests, blobs):
        assert store.exists(digest)
        assert store.stat(digest) == len(data)
        with store.open(digest) as f:
            assert f.read(5) == data[:5]
            assert f.read() == data[5:]
    missing = sha(b"never stored")
    assert not store.exists(missing)
    assert store.stat(missing) is None
    with pytest.raises(KeyError):
        store.open(missing)


@pytest.mark.parametrize("name", ["../../etc/passwd", "", "ABCDEF" + "0" * 58, "0" * 63, "g" * 64, None])
def test_names_that_are_not_hashes_are_absent(store, name):
    store.put_bytes(b"something\n")
    assert not store.exists(name)
    assert store.stat(name) is None
    assert not store.verify(name)
    with pytest.raises(KeyError):
        store.open(name)


def test_iter_all_on_an_empty_store(store):
    assert list(store.iter_all()) == []


def test_verify_detects_a_tampered_object(backend):
    store = backend.store
    good = store.put_bytes(pdf_bytes(3000)).sha256
    bad = store.put_bytes(pdf_bytes(3000)).sha256
    backend.tamper(bad, pdf_bytes(3000))
    assert store.verify(good) is True
    assert store.verify(bad) is False
    assert store.verify(sha(b"missing")) is False


# --- thumbnails --------------------------------------------------------------------------------------

def _image_of(store, digest):
    with store.open(digest) as f:
        im = Image.open(io.BytesIO(f.read()))
        im.load()
    return im


@pytest.mark.parametrize("data, expected", [
    (image_bytes("PNG", size=(1000, 600), mode="RGBA", color=(0, 0, 255, 0)), (320, 192)),
    (image_bytes("JPEG", size=(300, 900)), (107, 320)),
    (image_bytes("WEBP", size=(640, 640)), (320, 320)),
    (image_bytes("GIF", size=(50, 40), mode="P", color=5), (50, 40)),  # never enlarged
    (jpeg_with_orientation((400, 200), orientation=6), (160, 320)),   # turned upright
], ids=["png-alpha", "jpeg-tall", "webp", "gif-small", "jpeg-exif-rotated"])
def test_thumbnail_is_a_stored_jpeg_within_max_px(store, data, expected):
    original = store.put_bytes(data)
    thumb = store.make_thumbnail(original.sha256)
    assert thumb.mime == "image/jpeg" and thumb.created
    assert thumb.sha256 != original.sha256
    assert store.exists(thumb.sha256) and store.verify(thumb.sha256)
    im = _image_of(store, thumb.sha256)
    assert im.format == "JPEG" and im.mode == "RGB"
    assert im.size == expected
    assert "exif" not in im.info
    again = store.make_thumbnail(original.sha256)
    assert again.sha256 == thumb.sha256 and again.created is False


def test_thumbnail_respects_max_px_and_keeps_transparent_areas_white(store):
    original = store.put_bytes(image_bytes("PNG", size=(500, 250), mode="RGBA", color=(0, 0, 0, 0)))
    thumb = store.make_thumbnail(original.sha256, max_px=64)
    im = _image_of(store, thumb.sha256)
    assert im.size == (64, 32)
    assert min(im.getpixel((32, 16))) > 240


def test_thumbnail_of_a_non_image_or_missing_object(backend):
    store = backend.store
    pdf = store.put_bytes(pdf_bytes(2000)).sha256
    with pytest.raises(UnsupportedType):
        store.make_thumbnail(pdf)
    with pytest.raises(KeyError):
        store.make_thumbnail(sha(b"missing"))
    assert list(store.iter_all()) == [pdf]
    assert backend.leftovers() == []


# --- removing ----------------------------------------------------------------------------------------

def test_delete_removes_one_object_and_reports_whether_it_was_there(backend):
    store = backend.store
    kept, gone = store.put_bytes(b"kept note\n").sha256, store.put_bytes(pdf_bytes(2000)).sha256
    assert store.delete(gone) is True
    assert list(store.iter_all()) == [kept] and not store.exists(gone)
    assert store.delete(gone) is False
    assert store.delete("../../etc/passwd") is False
    assert store.put_bytes(pdf_bytes(2000)).created is True  # the same content can be stored again


def test_modified_at_is_when_the_object_was_stored(store):
    import time
    before = time.time()
    digest = store.put_bytes(b"dated note\n").sha256
    assert before - 5 <= store.modified_at(digest) <= time.time() + 5
    assert store.modified_at(sha(b"never stored")) is None


def test_storing_content_already_there_refreshes_its_modified_time(backend):
    """An upload that reuses an old object makes it look recent, so a `verify --clean` running
    meanwhile does not take it for an old orphan before the upload's row is written."""
    import time
    store = backend.store
    data = image_bytes("PNG")
    digest = store.put_bytes(data).sha256
    backend.backdate(digest, 7200)
    assert time.time() - store.modified_at(digest) > 7000
    before = time.time()
    again = store.put(io.BytesIO(data), max_size=len(data))
    assert again.created is False
    assert store.modified_at(digest) >= int(before)  # S3's LastModified is in whole seconds
    assert read_all(store, digest) == data and store.verify(digest)
    assert store.stat(digest) == len(data) and list(store.iter_all()) == [digest]
    assert backend.leftovers() == []


def test_stamp_changes_every_time_the_content_is_stored(backend):
    """Stored.stamp is the object as this upload left it; any later upload of the same content changes
    the store's stamp at once (even within the same second on S3)."""
    store = backend.store
    first = store.put_bytes(b"stamped note\n")
    assert first.created is True and first.stamp is not None
    assert store.stamp(first.sha256) == first.stamp
    second = store.put_bytes(b"stamped note\n")
    assert second.created is False
    assert store.stamp(first.sha256) == second.stamp != first.stamp
    third = store.put_bytes(b"stamped note\n")
    assert store.stamp(first.sha256) == third.stamp not in (first.stamp, second.stamp)
    assert store.stamp(sha(b"never stored")) is None and store.stamp("not-a-hash") is None
    if backend.name == "s3":  # the refresh keeps the object's type
        head = store.client.head_object(Bucket=store.bucket, Key=store.key(first.sha256))
        assert head["ContentType"] == "text/plain"


def test_stale_temp_files_of_killed_uploads_are_listed_and_removed(backend):
    import time
    store = backend.store
    killed, live = store.writer(1 << 20), store.writer(1 << 20)
    killed.write(b"half an upload")
    live.write(b"an upload going on")
    old = killed._path
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    foreign = os.path.join(store.tmp_dir, "not-ours.part")
    open(foreign, "wb").close()
    os.utime(foreign, (time.time() - 7200, time.time() - 7200))

    assert store.stale_temp_files(3600) == [old]
    assert store.stale_temp_files(3600, remove=True) == [old]
    assert not os.path.exists(old) and os.path.exists(foreign)
    assert store.stale_temp_files(3600) == []
    live.write(b" still going")
    assert live.commit().sha256 == sha(b"an upload going on still going")
    killed.abort()  # the killed upload's file is already gone: nothing to do
    os.unlink(foreign)
    assert backend.leftovers() == []


def test_images_are_decoded_one_at_a_time(tmp_path, monkeypatch):
    """Three uploads of a large image at once: the decoder never runs twice at the same time (finding 4:
    three 6,300 x 6,300 PNGs took the server from 109 MB to 1.45 GB)."""
    import threading
    import time as _time

    from PIL import ImageFile

    from evidence_store import open_store

    running, peak, lock = [0], [0], threading.Lock()
    load = ImageFile.ImageFile.load

    def counting_load(self):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            _time.sleep(0.05)  # widen the window in which a second decoder could start
            return load(self)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    store = open_store(f"file://{tmp_path}")
    blobs = [image_bytes("PNG", size=(800, 600), color=(100 * i, 50, 200 - 90 * i)) for i in range(3)]
    barrier = threading.Barrier(3)

    def upload(data):
        barrier.wait()
        store.make_thumbnail(store.put_bytes(data).sha256)

    threads = [threading.Thread(target=upload, args=(b,)) for b in blobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 1 and len(list(store.iter_all())) == 6
