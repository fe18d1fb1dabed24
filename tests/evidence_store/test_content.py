"""evidence_store.content: what text, PDF and MP4 content passes, decided on the whole file."""
import pytest

from evidence_store import InvalidContent, UnsupportedType
from evidence_store.content import _READ_SIZE, check_mp4, check_text, scan_markup

from ..evidence.malicious import GOOD, mp4, pdf


def write(tmp_path, data):
    path = tmp_path / "f"
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("text", ["价格 < 5 元，爱你 <3，表情 <(^_^)>\n", "a,b\n1 < 2,x\n", "\ufeffhello\n",
                                  "email me: a@example.com; 1/2 <= 3\n"])
def test_plain_text_with_angle_brackets_passes(tmp_path, text):
    check_text(write(tmp_path, text.encode()))


@pytest.mark.parametrize("text", [b"<b>bold</b>", b"</p>", b"<!-- x -->", b"<%= 1 %>", b"<?xml?>", b"<IMG SRC=x>",
                                  b"x <//svg onload=1>", b"see JAVASCRIPT:alert(1)"])
def test_tag_like_text_is_refused(tmp_path, text):
    with pytest.raises(UnsupportedType):
        check_text(write(tmp_path, b"chat " + text + b" end\n"))


def test_markup_cut_by_a_chunk_boundary_is_found(tmp_path):
    data = b"a" * (_READ_SIZE - 3) + b"<script>" + b"b" * 100
    with pytest.raises(UnsupportedType):
        scan_markup(write(tmp_path, data))
    with pytest.raises(UnsupportedType):
        check_text(write(tmp_path, data))


def test_gb18030_text_is_refused(tmp_path):
    with pytest.raises(UnsupportedType):
        check_text(write(tmp_path, "聊天记录：东西坏了".encode("gb18030")))


def test_sound_samples_pass(tmp_path):
    check_mp4(write(tmp_path, GOOD["video/mp4"]))
    check_mp4(write(tmp_path, mp4(brand=b"mp42")))
    scan_markup(write(tmp_path, pdf()))


def test_mp4_box_of_size_zero_runs_to_the_end(tmp_path):
    data = GOOD["video/mp4"]
    at = data.index(b"mdat") - 4
    check_mp4(write(tmp_path, data[:at] + b"\x00\x00\x00\x00mdat" + data[at + 8:]))
    with pytest.raises(InvalidContent):
        check_mp4(write(tmp_path, data + b"\x00\x00\x00"))


def test_pdf_dictionaries_written_without_blanks_are_not_markup(tmp_path):
    data = pdf(b"/Metadata 4 0 R", extra=(b"<</Type/Font/BaseFont/Helvetica>>",
                                          b"<</XObject<</Form 5 0 R>>/Basement 1>>"))
    scan_markup(write(tmp_path, data.replace(b"<< ", b"<<")))


@pytest.mark.parametrize("data", [b"GIF89a<<script>x", b"\x00</SCRIPT>", b"<svg/onload=1>", b"<iframe src=x>",
                                  b"<?php echo 1;"])
def test_markup_in_binary_is_found(tmp_path, data):
    with pytest.raises(UnsupportedType):
        scan_markup(write(tmp_path, b"\x89binary" + data + b"\x00tail"))


@pytest.mark.parametrize("uri", [b"(https://example.com/track?no=1)", b"(mailto:kefu@example.com)", b"(/relative)"])
def test_pdf_links_to_web_and_mail_addresses_pass(tmp_path, uri):
    from evidence_store.content import check_pdf
    check_pdf(write(tmp_path, pdf(b"/OpenAction << /S /URI /URI " + uri + b" >>")))


@pytest.mark.parametrize("uri", [b"(javascript:app.alert\\(1\\))", b"(JaVa\\tScRiPt:x)", b"(file:///C:/x.exe)",
                                 b"(data:text/html,x)", b"<6a617661736372697074 3a78>"])
def test_pdf_links_to_scripts_or_files_are_refused(tmp_path, uri):
    from evidence_store.content import check_pdf
    with pytest.raises(UnsupportedType):
        check_pdf(write(tmp_path, pdf(b"/OpenAction << /S /URI /URI " + uri + b" >>")))


def test_a_pdf_inside_another_type_is_refused_and_the_word_elsewhere_is_not(tmp_path):
    from evidence_store.content import no_pdf_inside
    with pytest.raises(UnsupportedType):
        no_pdf_inside(write(tmp_path, GOOD["video/mp4"][:40] + pdf()))
    no_pdf_inside(write(tmp_path, b"x" * 1024 + b"%PDF-1.7"))  # past the first KiB, where readers look
