"""Image checks and thumbnails with Pillow (imported on first use).

Every image is opened with its format fixed by the sniffed MIME type and its size read from the header
and checked against ``max_pixels`` before a single pixel is decoded; then it is verified and decoded.
Decoding is bounded: one image at a time per process (``_decode_slot``: a 25 MP image is 75-100 MB once
decoded, and parallel uploads queue instead of adding up), and a thumbnail is first reduced (JPEG: decoded
at 1/2-1/8 scale by libjpeg; others: Image.reduce) so colour conversion and resampling work on at most
about (2 x max_px)^2 pixels.
"""
import io
import struct
import threading
import warnings

from .errors import InvalidContent, UnsupportedType

PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}
_DAMAGED = "The image is damaged or cannot be read."
_TOO_MANY_PIXELS = "The image has too many pixels."

# warnings.catch_warnings() changes process-wide state: serialise it (it only wraps header parsing).
_open_lock = threading.Lock()
# at most one image decoded at a time in this process (see the module's docstring)
_decode_slot = threading.BoundedSemaphore(1)


def _open(fp, mime: str, max_pixels: int):
    """Image.open() restricted to the sniffed format, with the decompression-bomb guard: rejected when
    width * height > max_pixels (or Pillow's own MAX_IMAGE_PIXELS), from the header alone."""
    from PIL import Image, UnidentifiedImageError

    fmt = PIL_FORMATS.get(mime)
    if fmt is None:
        raise UnsupportedType("This file is not an image.")
    try:
        with _open_lock, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(fp, formats=[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidContent(_TOO_MANY_PIXELS, reason="image_pixels") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise InvalidContent(_DAMAGED, reason="image_damaged") from exc
    width, height = im.size
    pixels = width * height
    if width <= 0 or height <= 0:
        im.close()
        raise InvalidContent(_DAMAGED, reason="image_damaged")
    if pixels > max_pixels or (Image.MAX_IMAGE_PIXELS and pixels > Image.MAX_IMAGE_PIXELS):
        im.close()
        raise InvalidContent(_TOO_MANY_PIXELS, reason="image_pixels")
    return im


def check_image(path: str, mime: str, max_pixels: int) -> None:
    """Raise InvalidContent unless the file at ``path`` is a sound image of type ``mime`` with at most
    ``max_pixels`` pixels."""
    im = _open(path, mime, max_pixels)
    try:
        im.verify()  # structure and checksums (PNG CRCs...) without decoding
    except Exception as exc:
        raise InvalidContent(_DAMAGED, reason="image_damaged") from exc
    finally:
        im.close()
    im = _open(path, mime, max_pixels)  # verify() leaves the image unusable: reopen to decode
    try:
        with _decode_slot:
            im.load()  # a truncated or garbled pixel stream fails here
    except Exception as exc:
        raise InvalidContent(_DAMAGED, reason="image_damaged") from exc
    finally:
        im.close()


def thumbnail_jpeg(fp, mime: str, max_px: int, max_pixels: int) -> bytes:
    """A JPEG (quality 85, no metadata) of the first frame of the image in ``fp``, fitting in
    ``max_px`` x ``max_px``, upright according to its EXIF orientation, transparency on white."""
    from PIL import Image, ImageOps

    if max_px < 1:
        raise ValueError("max_px must be at least 1")
    original = im = _open(fp, mime, max_pixels)
    try:
        with _decode_slot:
            if im.mode in ("P", "PA") or im.mode.startswith("I"):
                im = _to_rgb(im)  # palette and 16/32-bit images: convert first (reduce() cannot take them)
            im.thumbnail((max_px, max_px), Image.Resampling.LANCZOS, reducing_gap=2.0)  # draft()/reduce() first
            im = _to_rgb(ImageOps.exif_transpose(im))
        out = io.BytesIO()
        im.save(out, "JPEG", quality=85, optimize=True)
        return out.getvalue()
    except InvalidContent:
        raise
    except Exception as exc:
        raise InvalidContent(_DAMAGED, reason="image_damaged") from exc
    finally:
        if im is not original:
            im.close()
        original.close()


def _to_rgb(im):
    """RGB, with transparency on white and 16/32-bit greyscale scaled down to 8 bits."""
    from PIL import Image

    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        background = Image.new("RGB", im.size, (255, 255, 255))
        background.paste(im, mask=im.getchannel("A"))
        return background
    if im.mode.startswith("I"):
        return im.convert("I").point(lambda v: v * (1 / 256)).convert("RGB")
    return im if im.mode == "RGB" else im.convert("RGB")
