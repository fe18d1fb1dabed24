"""detect_mime(): the type comes from the first bytes, never from a name."""
import pytest

from evidence_store import detect_mime
from evidence_store.mime import HEAD_SIZE

from .samples import ELF, EXE, ZIP, image_bytes, mp4_bytes, png_claiming

CASES = [
    # images
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
    (b"\xff\xd8\xff\xe1\x00\x10Exif\x00", "image/jpeg"),
    (image_bytes("JPEG"), "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
    (png_claiming(50_000, 50_000), "image/png"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    (image_bytes("WEBP"), "image/webp"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),          # RIFF but audio
    (b"GIF87a\x01\x00\x01\x00", "image/gif"),
    (b"GIF89a\x01\x00\x01\x00", "image/gif"),
    (b"GIF88a\x01\x00\x01\x00", None),
    # documents and video
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
    (b"%PDF", "text/plain"),                           # not the whole magic: just text
    (mp4_bytes(100), "video/mp4"),
    (b"\x00\x00\x00\x20ftypmp42\x00\x00\x00\x00", "video/mp4"),
    (b"\x00\x00\x00\x1cftypM4V \x00\x00\x00\x00", "video/mp4"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", None),  # a HEIF photo, not a video
    (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00", None),
    # text
    (b"hello", "text/plain"),
    ("商品与描述不符，申请退货。\n".encode(), "text/plain"),
    (b"\xef\xbb\xbfwith a BOM\n", "text/plain"),
    (b"Hello, world.\n", "text/plain"),                # one line: not enough to call it CSV
    (b"Hi, there.\nHow are you?\n", "text/plain"),       # comma counts differ
    (b"a,b,c\n1,2,3\n4,5,6\n", "text/csv"),
    (b"a;b\r\n1;2\r\n", "text/csv"),
    (b"a\tb\tc\n1\t2\t3\n", "text/csv"),
    (b'name,note\n"Li, Wei","said ""ok"", then left"\n', "text/csv"),  # quoted delimiters ignored
    (b"a,b\n1,2\n\n\n", "text/csv"),
    (b"one\ntwo\nthree\n", "text/plain"),
    # refused
    (b"", None),
    (b"\x00\x00\x00\x00", None),
    (b"text with a NUL\x00byte", None),
    (b"\xff\xfe\x00\x00", None),
    (b"caf\xe9 au lait", None),                        # Latin-1, not UTF-8
    (ZIP, None),
    (EXE, None),
    (ELF, None),
    (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", None),        # gzip
    (b"BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00\x00\x00", None),  # BMP
]


@pytest.mark.parametrize("head, expected", CASES, ids=[f"{i}-{e}" for i, (_, e) in enumerate(CASES)])
def test_detect_mime(head, expected):
    assert detect_mime(head) == expected


def test_a_multibyte_character_cut_by_the_head_is_still_text():
    text = "证据" * HEAD_SIZE
    head = text.encode()[:HEAD_SIZE]
    assert detect_mime(head) == "text/plain"
    assert detect_mime(b"abc\xe8\xaf") == "text/plain"
    assert detect_mime(b"abc\xe8\xaf" + b"def") is None  # cut in the middle, not at the end


def test_csv_whose_head_ends_mid_line():
    rows = b"id,amount_fen,note\n" + b"".join(b"%d,%d,ok\n" % (i, i * 10) for i in range(5000))
    assert detect_mime(rows[:HEAD_SIZE]) == "text/csv"
    assert detect_mime(rows) == "text/csv"


def test_only_the_bytes_matter():
    # a JPEG body is a JPEG, an executable is refused, whatever they would have been called
    assert detect_mime(bytearray(image_bytes("JPEG"))) == "image/jpeg"
    assert detect_mime(memoryview(EXE)) is None


@pytest.mark.parametrize("head, reason", [
    ("时间,发送人,内容\n14:01,张伟,颜色不对\n".encode("gbk"), "text_encoding"),
    ("聊天记录".encode("utf-16"), "text_encoding"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heic"),
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, "type"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, "type"),
], ids=["gbk-csv", "utf16-notepad", "heic", "docx", "doc"])
def test_an_unknown_type_says_why_for_the_uploaders_message(head, reason):
    from evidence_store.mime import unknown_type_reason
    assert detect_mime(head) is None and unknown_type_reason(head) == reason
