"""Image uploads are decoded once, and a thumbnail has its own, lower pixel budget (issue 11, point 4)."""
import io
import random

import pytest
from PIL import Image

from evidence_store import InvalidContent, open_store

from .samples import image_bytes


def noise_bytes(fmt, size, **save):
    """An image of (seeded, so the same each run) random pixels: its compressed pixel stream is about as long
    as the image is large."""
    out = io.BytesIO()
    Image.frombytes("RGB", size, random.Random(11).randbytes(size[0] * size[1] * 3)).save(out, fmt, **save)
    return out.getvalue()


@pytest.fixture
def decodes(monkeypatch):
    """Every pixel-stream decode Pillow starts (one per tile; these images have one): (decoder, its config)."""
    seen = []
    real = Image._getdecoder

    def spy(mode, decoder_name, args, extra=()):
        seen.append((decoder_name, extra))
        return real(mode, decoder_name, args, extra)

    monkeypatch.setattr(Image, "_getdecoder", spy)
    return seen


@pytest.mark.parametrize("data", [
    image_bytes("PNG", size=(900, 700), mode="RGBA", color=(0, 0, 255, 10)),
    noise_bytes("JPEG", (900, 700)),
    image_bytes("WEBP", size=(900, 700)),
    image_bytes("GIF", size=(900, 700), mode="P", color=3),
], ids=["png", "jpeg", "webp", "gif"])
def test_upload_and_its_thumbnail_decode_the_image_once(tmp_path, decodes, data):
    store = open_store(f"file://{tmp_path}")
    original = store.put_bytes(data)
    thumb = store.make_thumbnail(original.sha256)
    assert len(decodes) == 1, decodes
    with store.open(thumb.sha256) as f:
        im = Image.open(io.BytesIO(f.read()))
        assert (im.format, max(im.size)) == ("JPEG", 320)


def test_thumbnail_of_an_image_stored_earlier_still_works(tmp_path):
    data = image_bytes("PNG", size=(640, 400))
    digest = open_store(f"file://{tmp_path}").put_bytes(data).sha256
    again = open_store(f"file://{tmp_path}")  # another process: nothing kept from the upload
    thumb = again.make_thumbnail(digest)
    with again.open(thumb.sha256) as f:
        assert Image.open(io.BytesIO(f.read())).size == (320, 200)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF"])
def test_image_above_the_thumbnail_budget_is_stored_without_thumbnail(tmp_path, fmt):
    store = open_store(f"file://{tmp_path}", thumb_max_pixels=100_000)
    gif = fmt == "GIF"
    data = image_bytes(fmt, size=(400, 400), mode="P" if gif else "RGB", color=5 if gif else (9, 9, 9))
    original = store.put_bytes(data)  # accepted as evidence
    assert store.make_thumbnail(original.sha256) is None
    assert list(store.iter_all()) == [original.sha256]
    small = store.put_bytes(image_bytes(fmt, size=(300, 300), mode="RGB"))  # 90,000 pixels: within
    assert store.make_thumbnail(small.sha256) is not None


def test_jpeg_above_the_thumbnail_budget_gets_a_thumbnail_from_a_reduced_decode(tmp_path, decodes):
    store = open_store(f"file://{tmp_path}", thumb_max_pixels=100_000)
    data = noise_bytes("JPEG", (800, 800))  # 640,000 pixels; at 1/4 scale: 40,000
    decodes.clear()
    original = store.put_bytes(data)
    thumb = store.make_thumbnail(original.sha256)
    assert [extra for _, extra in decodes] == [(4, 0)]  # libjpeg decoded it at 1/4 scale, once
    with store.open(thumb.sha256) as f:
        assert Image.open(io.BytesIO(f.read())).size == (200, 200)


@pytest.mark.parametrize("fmt, cut, save", [
    ("JPEG", 0.5, {}), ("JPEG", 0.97, {}), ("JPEG", 0.99, {"progressive": True}),
    ("PNG", 0.5, {}), ("WEBP", 0.9, {}), ("GIF", 0.6, {})])
def test_truncated_large_image_is_still_refused(tmp_path, fmt, cut, save):
    """The reduced (JPEG: here 1/4 scale) decode still reads the whole pixel stream: a cut-off file is refused."""
    store = open_store(f"file://{tmp_path}/store", thumb_max_pixels=100_000)
    data = noise_bytes(fmt, (1200, 1200), **save)
    assert open_store(f"file://{tmp_path}/whole").put_bytes(data).size == len(data)  # the whole file is sound
    with pytest.raises(InvalidContent):
        store.put_bytes(data[:int(len(data) * cut)])
    assert list(store.iter_all()) == []
