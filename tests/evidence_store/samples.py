"""Sample files for the evidence store tests, made on the fly."""
import io
import os
import struct
import zlib

from PIL import Image


def image_bytes(fmt="PNG", size=(64, 48), mode="RGB", color=(200, 30, 30), **save):
    im = Image.new(mode, size, color)
    out = io.BytesIO()
    im.save(out, fmt, **save)
    return out.getvalue()


def jpeg_with_orientation(size=(400, 200), orientation=6):
    """A JPEG stored sideways: its EXIF says "rotate 90° clockwise to display"."""
    im = Image.new("RGB", size, (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_claiming(width, height):
    """A real 1x1 PNG whose IHDR (with a correct CRC) claims width x height pixels."""
    data = bytearray(image_bytes("PNG", size=(1, 1)))
    assert data[12:16] == b"IHDR"
    ihdr = bytearray(data[16:29])
    ihdr[0:8] = struct.pack(">II", width, height)
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr)) & 0xFFFFFFFF)
    return bytes(data)


def pdf_bytes(size):
    """``size`` bytes that sniff as a PDF (magic + random body)."""
    head = b"%PDF-1.7\n"
    return (head + os.urandom(max(0, size - len(head))))[:size]


def mp4_bytes(size=4096):
    head = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    return head + os.urandom(size - len(head))


ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 4
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(range(256)) * 4
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64
