"""Image checks and thumbnails with Pillow (imported on first use).

Every image is opened with its format fixed by the sniffed MIME type and its size read from the header
and checked against ``max_pixels`` before a single pixel is decoded; then it is verified and decoded.
Decoding is bounded: one image at a time per process (``_decode_slot``: a 25 MP image is 75-100 MB once
decoded, and parallel uploads queue instead of adding up), each upload is decoded once (the soundness
check and the thumbnail come from the same decode), a JPEG is decoded at 1/2-1/8 scale by libjpeg (which
still reads the whole stream, so truncation is caught), and the thumbnail has its own, lower pixel budget:
an image above it that has no reduced decode (PNG, WebP, GIF) gets no thumbnail. The thumbnail is first
reduced (Image.reduce) and the full-size image freed, so resampling works on about (2 x max_px)^2 pixels.
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


def check_image(path: str, mime: str, max_pixels: int, thumb_px: int | None = None,
                thumb_max_pixels: int = 16_000_000) -> bytes | None:
    """Raise InvalidContent unless the file at ``path`` is a sound image of type ``mime`` with at most
    ``max_pixels`` pixels. Returns its thumbnail (see thumbnail_jpeg), made from the same decode, when
    ``thumb_px`` is given and the image has one."""
    im = _open(path, mime, max_pixels)
    try:
        im.verify()  # structure and checksums (PNG CRCs...) without decoding
    except Exception as exc:
        raise InvalidContent(_DAMAGED, reason="image_damaged") from exc
    finally:
        im.close()
    # verify() leaves the image unusable: reopen to decode (a truncated or garbled pixel stream fails there)
    return _decode(_open(path, mime, max_pixels), thumb_px, thumb_max_pixels)


def thumbnail_jpeg(fp, mime: str, max_px: int, max_pixels: int, thumb_max_pixels: int = 16_000_000) -> bytes | None:
    """A JPEG (quality 85, no metadata) of the first frame of the image in ``fp``, fitting in
    ``max_px`` x ``max_px``, upright according to its EXIF orientation, transparency on white. None when
    the image has more than ``thumb_max_pixels`` pixels and no reduced decode (JPEG has one: 1/2-1/8 scale)."""
    if max_px < 1:
        raise ValueError("max_px must be at least 1")
    return _decode(_open(fp, mime, max_pixels), max_px, thumb_max_pixels)


def _decode(im, max_px: int | None, budget: int) -> bytes | None:
    """Decode the freshly opened ``im`` once, its whole pixel stream (JPEG at the smallest scale that still
    gives a ``max_px`` thumbnail within ``budget`` pixels), then close it; its thumbnail or None."""
    try:
        with _decode_slot:
            if im.format == "JPEG":
                im.draft(None, _draft_size(im.size, max_px, budget))
            im.load()
            if max_px is None or im.width * im.height > budget:
                return None
            return _thumbnail(im, max_px)
    except InvalidContent:
        raise
    except Exception as exc:
        raise InvalidContent(_DAMAGED, reason="image_damaged") from exc
    finally:
        im.close()


def _draft_size(size, max_px: int | None, budget: int):
    """The size to ask JpegImageFile.draft() for: the scale 1/s (s = 1, 2, 4 or 8) that keeps at least twice
    the thumbnail's size (as Image.thumbnail's reducing_gap=2.0), smaller while above ``budget`` pixels;
    1/8 when no thumbnail is wanted (libjpeg still reads the whole stream)."""
    w, h = size
    scale = 8
    if max_px is not None:
        fit = max(w, h) / max_px
        scale = next((s for s in (8, 4, 2) if fit >= 2 * s), 1)
        while scale < 8 and -(-w // scale) * -(-h // scale) > budget:
            scale *= 2
    return max(1, w // scale), max(1, h // scale)


def _thumbnail(im, max_px: int) -> bytes:
    """The JPEG thumbnail of the loaded ``im``. Palette and 16-bit images are converted first (reduce()
    cannot take them), and the full-size original freed before resampling."""
    from PIL import Image, ImageOps

    if im.mode in ("P", "PA") or im.mode.startswith("I;"):
        full, im = im, im.convert("I" if im.mode.startswith("I;") else
                                  "RGBA" if im.mode == "PA" or "transparency" in im.info else "RGB")
        full.close()
    im.thumbnail((max_px, max_px), Image.Resampling.LANCZOS, reducing_gap=2.0)  # reduce() first
    im = _to_rgb(ImageOps.exif_transpose(im))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


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
