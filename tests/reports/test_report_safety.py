"""Hostile text and files in a case print as text: WeasyPrint fetches nothing but the report's own evidence
thumbnails (the fetcher records every call; a local listener records every connection)."""
import io
import socket
import threading

import pytest

from evidence_store.errors import UnsupportedType

from app.cases.services import open_case
from app.chat.services import post_case_message, post_order_message
from app.evidence.models import Evidence
from app.extensions import db
from app.reports import render, services
from app.timeutil import utcnow

from ..api.helpers import token_for
from ..factories import make_order
from .stories import body_text, png, squeeze, upload


@pytest.fixture
def listener():
    """A local TCP listener that records every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    seen, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            seen.append(conn.recv(200))
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()


@pytest.fixture
def fetchers(monkeypatch):
    """Every URL fetcher the reports use, kept for the test to read its calls."""
    made = []

    def make(store, allowed):
        fetcher = render.make_fetcher(store, allowed)
        made.append(fetcher)
        return fetcher
    monkeypatch.setattr(services, "make_fetcher", make)
    return made


def hostile(port):
    url = f"http://127.0.0.1:{port}"
    return [
        f'<img src="{url}/img">',
        '<img src="file:///etc/passwd">',
        f'<style>@import url("{url}/import.css");</style>',
        f'<div style="background: url({url}/bg.png)">css url()</div>',
        f'<link rel="stylesheet" href="{url}/link.css">',
        f'<iframe src="{url}/frame"></iframe>',
        f'<object data="{url}/object"></object><embed src="{url}/embed">',
        '<a rel="attachment" href="file:///etc/passwd">passwd</a>',
        "<script>document.write('x')</script>",
        '<a href="javascript:alert(1)">js</a>',
        f'<svg xmlns="http://www.w3.org/2000/svg"><image href="{url}/svg.png"/></svg>',
        f'<style>@font-face {{ font-family: x; src: url({url}/font.woff) }} body {{ font-family: x }}</style>',
        f'<base href="{url}/"><img src="relative.png">',
        f'<meta http-equiv="refresh" content="0; url={url}/refresh">',
        f'</div></body></html><html><body><img src="{url}/after-body">',
        f'<link rel="attachment" href="{url}/attach">',
    ]


SVG = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
       '<image xlink:href="http://127.0.0.1:{port}/svg-file"/><use href="file:///etc/passwd#x"/></svg>')


def test_hostile_text_and_files_fetch_nothing_and_print_as_text(client, ctx, listener, fetchers):
    port, connections = listener
    now = utcnow()
    order, buyer, seller = make_order(state="delivered", now=now)
    texts = hostile(port)
    case = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=10_000,
                     description=texts[0] + texts[4], now=now)
    for i, body in enumerate(texts):
        post_case_message(case.id, actor=(buyer, seller)[i % 2], body=body, now=now)
    post_order_message(order.id, actor=buyer, body=texts[2], now=now)
    huge = "<img src=\"data:image/png;base64," + "A" * 4_800 + "\">"
    post_case_message(case.id, actor=buyer, body=huge, now=now)
    photo = upload(case.id, buyer, png(3), description=texts[1],
                   filename=f'"><img src="http://127.0.0.1:{port}/fn">.png')
    with pytest.raises(UnsupportedType):  # an SVG (markup) is refused as evidence: it never reaches a report
        upload(case.id, seller, SVG.format(port=port).encode(), kind="document", filename="drawing.svg")
    chat = upload(case.id, seller, "七天内补发，运费我出\n".encode(), kind="chat_export", description=texts[3],
                  filename="chat.txt")

    response = client.get(f"/api/v1/cases/{case.id}/report.pdf", headers=token_for(client, buyer))
    assert response.status_code == 200
    pdf = response.data

    (fetcher,) = fetchers
    assert fetcher.calls == [f"evidence:{photo.thumb_sha256}"], fetcher.refused
    assert connections == []
    flat = body_text(pdf)
    for text in texts + [photo.filename, huge]:
        assert squeeze(text) in flat, text
    assert photo.sha256 in flat and chat.sha256 in flat
    from pypdf import PdfReader
    reader = PdfReader(io.BytesIO(pdf))
    assert "/EmbeddedFiles" not in str(reader.trailer["/Root"].get_object().get("/Names", {}))
    assert all("/Annots" not in page for page in reader.pages)  # no links, no file attachments
    assert len(reader.pages) >= 1


def test_the_fetcher_serves_registered_thumbnails_only(ctx, listener):
    from app.evidence.storage import get_store
    port, connections = listener
    store = get_store()
    thumb = store.make_thumbnail(store.put_bytes(png(9)).sha256).sha256
    other = store.put_bytes(png(10)).sha256  # stored, but not this report's
    fetcher = render.make_fetcher(store, {thumb})
    assert fetcher(f"evidence:{thumb}").read()[:3] == b"\xff\xd8\xff"
    for url in (f"http://127.0.0.1:{port}/x", "file:///etc/passwd", f"evidence:{other}", "evidence:../../etc/passwd",
                "data:text/css,body{}", "ftp://127.0.0.1/x"):
        with pytest.raises(ValueError):
            fetcher(url)
    assert fetcher.refused == fetcher.calls[1:]
    assert connections == []


def test_no_cjk_font_refuses_with_a_clear_error_and_stores_nothing(client, ctx, monkeypatch):
    from app.reports.models import CaseReport
    monkeypatch.setattr(render, "cjk_fonts", lambda: ())
    now = utcnow()
    order, buyer, _seller = make_order(state="delivered", now=now)
    case = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=10_000, now=now)
    response = client.get(f"/api/v1/cases/{case.id}/report.pdf", headers=token_for(client, buyer))
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
    assert "CJK" in response.get_json()["error"]["message"]
    assert db.session.query(CaseReport).count() == 0
    assert db.session.query(Evidence).count() == 0


def test_rendering_a_report_leaves_the_evidence_checks_as_strict_as_before(client, ctx):
    """Importing WeasyPrint sets Pillow's LOAD_TRUNCATED_IMAGES for the whole process: after a report, a
    truncated JPEG must still be refused at upload."""
    import evidence_store
    from app.evidence.storage import get_store
    from PIL import Image
    now = utcnow()
    order, buyer, _seller = make_order(state="delivered", now=now)
    case = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=10_000, now=now)
    assert client.get(f"/api/v1/cases/{case.id}/report.pdf", headers=token_for(client, buyer)).status_code == 200
    out = io.BytesIO()
    Image.new("RGB", (200, 200), (200, 30, 30)).save(out, "JPEG")
    with pytest.raises(evidence_store.InvalidContent):
        get_store().put_bytes(out.getvalue()[:700])  # a truncated JPEG
