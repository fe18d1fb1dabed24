"""Content type detection from the first bytes of a file (never from its name)."""

ALLOWED_MIMES = ("image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf", "video/mp4",
                 "text/plain", "text/csv")
IMAGE_MIMES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
TEXT_MIMES = frozenset({"text/plain", "text/csv"})

#: what each kind of evidence may contain (the app's kinds; a mismatch is refused before storing)
KIND_MIMES = {
    "photo": tuple(sorted(IMAGE_MIMES)),
    "chat_screenshot": tuple(sorted(IMAGE_MIMES)),
    "video": ("video/mp4",),
    "shipping_proof": ("application/pdf", *sorted(IMAGE_MIMES)),
    "document": ("application/pdf", *sorted(IMAGE_MIMES)),
    "chat_export": ("text/plain", "text/csv"),
}

#: how many leading bytes detect_mime() looks at (the writer hands it this much)
HEAD_SIZE = 8192

# ISO base media files whose major brand says "still image" (HEIF/HEIC/AVIF): an 'ftyp' box alone would
# otherwise call an iPhone photo a video.
_IMAGE_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1",
                           b"avif", b"avis"})
_CSV_DELIMITERS = (",", ";", "\t", "|")
_CSV_LINES = 5


def detect_mime(head: bytes) -> str | None:
    """The MIME type of a file starting with ``head``, or None when it is not a known type."""
    head = bytes(head[:HEAD_SIZE])
    if not head:
        return None
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp":
        return None if head[8:12] in _IMAGE_BRANDS else "video/mp4"
    text = _decode_text(head)
    if text is None:
        return None
    return "text/csv" if _looks_like_csv(text, truncated=len(head) >= HEAD_SIZE) else "text/plain"


def unknown_type_reason(head: bytes) -> str:
    """Why detect_mime() found no type, for the uploader's message (never to accept a file): "heic" for an
    iPhone's HEIC/HEIF photo, "text_encoding" for text saved in another encoding than UTF-8 (Excel's CSV on a
    Chinese Windows is GBK; Notepad's "Unicode" is UTF-16), else "type"."""
    head = bytes(head[:HEAD_SIZE])
    if head[4:8] == b"ftyp" and head[8:12] in _IMAGE_BRANDS:
        return "heic"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "text_encoding"
    if head and not any(b < 0x20 and b not in b"\t\r\n\x0c" for b in head):
        try:
            head.decode("gb18030")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 3:  # not merely a character cut off by the end of the head
                return "type"
        return "text_encoding"
    return "type"


def _decode_text(head: bytes) -> str | None:
    """``head`` as text when it is UTF-8 without NUL bytes; a multi-byte character cut off by the end of
    the head is tolerated (the writer checks the whole file later)."""
    if b"\x00" in head:
        return None
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(head) - 3:
            return head[:exc.start].decode("utf-8")
        return None


def _count_unquoted(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            count += 1
    return count


def _looks_like_csv(text: str, truncated: bool) -> bool:
    return csv_delimiter(text, truncated) is not None


def csv_delimiter(text: str, truncated: bool = True) -> str | None:
    """The delimiter of the CSV whose first lines are ``text`` (the same number of it, at least one, in each
    of the first non-blank lines), or None when it does not look like CSV."""
    lines = text.splitlines()
    if truncated and len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines.pop()  # the head may end in the middle of a line
    lines = [line for line in lines if line.strip()][:_CSV_LINES]
    if len(lines) < 2:
        return None
    for delimiter in _CSV_DELIMITERS:
        counts = {_count_unquoted(line, delimiter) for line in lines}
        if len(counts) == 1 and counts.pop() >= 1:
            return delimiter
    return None
