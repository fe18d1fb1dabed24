"""Content checks run on the whole uploaded file before it is stored (see Writer.commit):

* every file: no web markup as plain bytes anywhere (a browser or a script host that sniffs it must find
  none: GIF+HTML, PDF+HTML and MP4+HTML polyglots fail here);
* text: UTF-8 only (with or without BOM), no NUL byte, nothing tag-like (HTML/SVG/XML/PHP) at all;
* PDF: parsed with pypdf; refused when it cannot be parsed, is encrypted, has more than MAX_PDF_PAGES
  pages or MAX_PDF_OBJECTS objects, has an active feature (JavaScript, launch, forms sent or imported,
  embedded files, rich media, XFA) or carries a ZIP archive at its end;
* MP4: the top-level boxes (printable names) tile the file exactly from an ftyp with a known brand, with a
  moov that holds an mvhd; nothing after the last box.
"""
import codecs
import re
import struct

from .errors import InvalidContent, UnsupportedType

_READ_SIZE = 1 << 20

# Markup that makes a file act as a page or a script, looked for in the lower-cased bytes of every file: a
# regex that starts with '<' (re jumps from '<' to '<'; runs of '<' are collapsed first) plus three literals.
# A browser reads '<' + a name as a tag only with no blank between them, and the whole name.
_NAMES = rb"(?:script|html|body|iframe|frame|object|embed|applet|svg|math|form|meta|base)(?![a-z0-9:_-])"
# "</name" only when not part of a PDF dictionary's "<</Name" (<</Metadata, <</BaseFont, <</Form ...)
ACTIVE_TAGS = re.compile(rb"<" + _NAMES + rb"|(?<!<)</" + _NAMES + rb"|<\?php")
ACTIVE_LITERALS = (b"javascript:", b"vbscript:", b"data:text/html")
# In text, also anything an HTML or XML parser reads as a tag, a declaration or a processing instruction:
# '<' then a letter, '!', '?' or '%' (after any '/'). Found by mapping those to 'a' and dropping '/': "<a".
# ("< 5", "<3" and "<(^_^)>" stay text.)
_TAG_START = bytes.maketrans(b"abcdefghijklmnopqrstuvwxyz!?%", b"a" * 29)
_OVERLAP = 64  # a match may straddle two chunks; none is longer

_MARKUP_MESSAGE = "The file contains web page or script markup, which is not accepted as evidence."


def scan_markup(path: str, text: bool = False) -> None:
    """UnsupportedType when markup (ACTIVE_TAGS, ACTIVE_LITERALS; in ``text`` any tag start) occurs anywhere
    in the file."""
    tail = b""
    with open(path, "rb") as f:
        while chunk := f.read(_READ_SIZE):
            data = tail + chunk.lower()
            if text:
                found = b"<a" in data.translate(_TAG_START, b"/")
            else:
                while b"<<<<" in data:
                    data = data.replace(b"<<<<", b"<")
                found = ACTIVE_TAGS.search(data) is not None
            if found or any(literal in data for literal in ACTIVE_LITERALS):
                raise UnsupportedType(_MARKUP_MESSAGE, reason="markup")
            tail = data[-_OVERLAP:]


def check_text(path: str) -> None:
    """The whole file must be UTF-8 (a BOM allowed) without NUL bytes and without markup. GB18030 and
    other legacy encodings are refused: they cannot be told from binary data by their bytes, and every
    exporter we know writes UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(_READ_SIZE):
                if b"\x00" in chunk:
                    raise UnsupportedType("Text files must not contain NUL bytes.", reason="text_encoding")
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise UnsupportedType("Text files must be UTF-8.", reason="text_encoding") from exc
    scan_markup(path, text=True)


# PDF ------------------------------------------------------------------------------------------------------
MAX_PDF_PAGES = 500
MAX_PDF_OBJECTS = 200_000
# names whose presence anywhere (as a key or a value) makes a PDF active
_PDF_ACTIVE = frozenset({"/JS", "/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/EmbeddedFiles",
                         "/EmbeddedFile", "/FileAttachment", "/RichMedia", "/RichMediaContent", "/XFA", "/GoToE",
                         "/Sound", "/Movie", "/Rendition"})
_PDF_DAMAGED = "The PDF is damaged or cannot be read."
_PDF_ACTIVE_MESSAGE = "PDFs with scripts, embedded files, launch actions or forms that send data are not accepted."


def check_pdf(path: str) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    _no_trailing_archive(path)
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            raise UnsupportedType("Encrypted PDFs are not accepted; remove the password and upload it again.",
                                  reason="pdf_encrypted")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise InvalidContent(f"The PDF has more than {MAX_PDF_PAGES} pages.", reason="pdf_pages")
        _walk_pdf(reader.trailer)
    except (UnsupportedType, InvalidContent):
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError,
            struct.error, AssertionError) as exc:
        raise InvalidContent(_PDF_DAMAGED, reason="pdf_damaged") from exc


def _walk_pdf(root) -> None:
    """Every object reachable from the trailer (each indirect object once), without recursion."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    seen, stack, visited = set(), [root], 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                continue
            seen.add(key)
            obj = obj.get_object()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise InvalidContent("The PDF has too many objects.", reason="pdf_damaged")
        if isinstance(obj, DictionaryObject):
            for name, value in obj.items():
                if name in _PDF_ACTIVE or (name == "/URI" and not _plain_link(value)):
                    raise UnsupportedType(_PDF_ACTIVE_MESSAGE, reason="pdf_active")
                if name != "/Parent" and isinstance(value, (IndirectObject, DictionaryObject, ArrayObject,
                                                            NameObject)):
                    stack.append(value)
        elif isinstance(obj, ArrayObject):  # numbers and strings need no visit (a /Widths array has hundreds)
            stack.extend(v for v in obj if isinstance(v, (IndirectObject, DictionaryObject, ArrayObject, NameObject)))
        elif isinstance(obj, NameObject) and obj in _PDF_ACTIVE:
            raise UnsupportedType(_PDF_ACTIVE_MESSAGE, reason="pdf_active")


_LINK_SCHEMES = frozenset({"http", "https", "mailto"})


def _plain_link(value) -> bool:
    """A link action's /URI is a web or mail address (or relative): not javascript:, file:, data: ... (blanks
    and control characters dropped first, as browsers do)."""
    value = value.get_object() if hasattr(value, "get_object") else value
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not isinstance(value, str):
        return True  # not a string: nothing a reader would open
    match = re.match(r"([a-z][a-z0-9+.-]*):", re.sub(r"[\x00-\x20\x7f]", "", value).lower())
    return match is None or match.group(1) in _LINK_SCHEMES


def no_pdf_inside(path: str) -> None:
    """A file that is not a PDF must not be one too: Acrobat takes any file with "%PDF-" in its first KiB
    for a PDF (an MP4's mdat or a PNG's text chunk can carry one, scripts and all, past the other checks)."""
    with open(path, "rb") as f:
        if b"%PDF-" in f.read(1024):
            raise UnsupportedType("The file carries a PDF.", reason="pdf_inside")


def _no_trailing_archive(path: str) -> None:
    """A ZIP's end record sits in its last 64 KiB: a PDF+ZIP polyglot has one there."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        f.seek(max(0, f.tell() - 65_600))
        tail = f.read()
    if b"PK\x05\x06" in tail or b"PK\x06\x06" in tail:
        raise UnsupportedType("The PDF carries an archive.", reason="pdf_active")
    if b"%%EOF" not in tail[-1024:] or tail[tail.rindex(b"%%EOF") + 5:].strip(b"\r\n\t \x00"):
        raise InvalidContent("The PDF has data after its end.", reason="pdf_damaged")


# MP4 ------------------------------------------------------------------------------------------------------
MP4_BRANDS = frozenset({b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso8", b"mp41", b"mp42",
                        b"avc1", b"M4V ", b"M4VH", b"M4VP", b"dash", b"mmp4", b"MSNV", b"f4v "})
_BOX_TYPE = re.compile(rb"[\x20-\x7e]{4}")  # phones add boxes of their own (Samsung: sefd): any printable name
_MP4_DAMAGED = "The video is not a sound MP4 file."


def _boxes(f, start: int, end: int):
    """(type, payload offset, box end) of the boxes from start to end; InvalidContent unless they tile it."""
    at = start
    while at < end:
        f.seek(at)
        header = f.read(8)
        if len(header) < 8 or at + 8 > end:
            raise InvalidContent(_MP4_DAMAGED, reason="video_damaged")
        size, kind = struct.unpack(">I4s", header)
        payload = at + 8
        if size == 1:
            large = f.read(8)
            if len(large) < 8:
                raise InvalidContent(_MP4_DAMAGED, reason="video_damaged")
            size, payload = struct.unpack(">Q", large)[0], at + 16
        elif size == 0:
            size = end - at
        if size < payload - at or at + size > end:
            raise InvalidContent(_MP4_DAMAGED, reason="video_damaged")
        yield kind, payload, at + size
        at += size


def check_mp4(path: str) -> None:
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        kinds = []
        for kind, payload, end in _boxes(f, 0, size):
            if not kinds:
                f.seek(payload)
                if kind != b"ftyp" or f.read(4) not in MP4_BRANDS:
                    raise UnsupportedType("Only MP4 videos are accepted.", reason="video_format")
            elif not _BOX_TYPE.fullmatch(kind):
                raise InvalidContent(_MP4_DAMAGED, reason="video_damaged")
            if kind == b"moov" and b"mvhd" not in {k for k, _, _ in _boxes(f, payload, end)}:
                raise InvalidContent(_MP4_DAMAGED, reason="video_damaged")
            kinds.append(kind)
        if b"moov" not in kinds and b"moof" not in kinds:
            raise InvalidContent(_MP4_DAMAGED, reason="video_damaged")
