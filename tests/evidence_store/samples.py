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


def _filler(n):
    """n random bytes with no 'P' or '<' (so no ZIP record or markup appears by chance)."""
    return os.urandom(n).replace(b"P", b"p").replace(b"<", b"(")


def pdf_bytes(size):
    """A sound one-page PDF of exactly ``size`` bytes (at least 400): the rest is a stream of random bytes."""
    filler = max(0, size - 400)
    for _ in range(5):
        objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                   b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
                   b"<< /Length %d >>\nstream\n" % filler + _filler(filler) + b"\nendstream"]
        out, offsets = b"%PDF-1.7\n", []
        for number, body in enumerate(objects, 1):
            offsets.append(len(out))
            out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
        xref = len(out)
        out += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
        out += b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
        if len(out) == size or filler + size - len(out) < 0:
            return out
        filler += size - len(out)
    return out


def mp4_bytes(size=4096):
    """An MP4 skeleton of ``size`` bytes: ftyp, moov with an mvhd, and an mdat of random bytes (below 148
    bytes only the ftyp is sound: enough for sniffing)."""
    head = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    moov = struct.pack(">I", 116) + b"moov" + struct.pack(">I", 108) + b"mvhd" + b"\x00" * 100
    if size < len(head) + len(moov) + 8:
        return head + os.urandom(size - len(head))
    rest = size - len(head) - len(moov)
    return head + moov + struct.pack(">I", rest) + b"mdat" + _filler(rest - 8)


ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 4
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(range(256)) * 4
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64
