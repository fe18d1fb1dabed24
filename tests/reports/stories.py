"""Real cases for the report tests (and bench/report.py), driven through the services to their ends."""
import io
import re
import shutil
import subprocess
from datetime import timedelta

from app.cases.services import file_complaint, open_case, perform_action
from app.chat.services import post_case_message, post_order_message
from app.db_tx import transaction
from app.deadlines.services import sweep
from app.evidence.services import add_evidence
from app.evidence.storage import get_store
from app.execution.services import tasks_of
from app.extensions import db
from app.payments.services import transfer

from ..factories import make_order, make_user


def png(seed, size=(64, 48)):
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256)).save(out, "PNG")
    return out.getvalue()


def upload(case_id, actor, data, *, kind="photo", description="", filename="photo.png", now=None):
    """Evidence as an upload stores it: bytes (type sniffed), a thumbnail for images, the row and its event."""
    store = get_store()
    stored = store.put_bytes(data)
    thumb = store.make_thumbnail(stored.sha256) if stored.mime.startswith("image/") else None
    return add_evidence(case_id, actor=actor, kind=kind, description=description, stored=stored,
                        filename=filename, thumb_sha256=thumb and thumb.sha256, now=now)


def fund_guarantee(amount_fen, key):
    with transaction():
        transfer("platform:capital", "platform:guarantee", amount_fen, f"test:guarantee:{key}", kind="fund")


def negotiated_refund(now, *, messages=("卖家您好，杯子有裂纹", "抱歉，给您部分退款可以吗？"), images=1):
    """A quality refund the seller counters and the buyer accepts; the refund comes out of escrow."""
    order, buyer, seller = make_order(state="delivered", price_fen=12_800, now=now)
    post_order_message(order.id, actor=buyer, body="请问什么时候发货？", now=now)
    post_order_message(order.id, actor=seller, body="今天下午发顺丰", now=now)
    case = open_case(order.id, actor=buyer, kind="refund_only", reason="quality", amount_fen=12_800,
                     description="杯子收到时有裂纹", now=now)
    for i in range(images):
        upload(case.id, buyer, png(i), description=f"裂纹照片{i + 1}", filename=f"crack{i + 1}.png", now=now)
    for i, body in enumerate(messages):
        post_case_message(case.id, actor=(buyer, seller)[i % 2], body=body, now=now)
    perform_action(case.id, "counter_offer", actor=seller, data={"amount_fen": 6_400, "note": "退一半可以吗"}, now=now)
    perform_action(case.id, "accept_offer", actor=buyer, now=now)
    return case.id


def mediated_ruling(now, *, penalties=True):
    """A not-as-described complaint: proposal rejected by the seller, final ruling with penalties."""
    order, buyer, seller = make_order(state="delivered", price_fen=20_000, now=now)
    mediator = make_user("mediator")
    cid = file_complaint(actor=buyer, order_id=order.id, type="not_as_described", description="颜色与描述不符",
                         now=now).id
    post_case_message(cid, actor=buyer, body="实物是蓝色，页面写的是绿色", now=now)
    perform_action(cid, "respond", actor=seller, data={"statement": "颜色有色差，属正常"}, now=now)
    perform_action(cid, "assign", actor=mediator, now=now)
    post_case_message(cid, actor=mediator, body="请双方补充照片", now=now)
    upload(cid, seller, png(7), kind="shipping_proof", description="发货前实拍", filename="before.png", now=now)
    perform_action(cid, "start_review", actor=mediator, now=now)
    decision = {"remedy": "partial_refund", "amount_fen": 8_000, "findings": "色差明显，与描述不符",
                "rule": "描述不符 · 部分退款"}
    if penalties:
        decision["penalties"] = [{"kind": "points", "points": 6}, {"kind": "restrict", "days": 7}]
    perform_action(cid, "propose", actor=mediator, data=decision, now=now)
    perform_action(cid, "accept_proposal", actor=buyer, now=now)
    perform_action(cid, "reject_proposal", actor=seller, data={"reason": "不同意部分退款"}, now=now)
    perform_action(cid, "rule", actor=mediator, data=decision, now=now)
    return cid, mediator


def platform_advance(now):
    """A refund after the money was released: the seller stays silent, the platform advances it."""
    order, buyer, seller = make_order(state="completed", price_fen=6_000, now=now)
    cid = open_case(order.id, actor=buyer, kind="refund_only", reason="damaged", amount_fen=6_000,
                    description="外包装破损，商品摔坏", now=now).id
    post_case_message(cid, actor=buyer, body="商品摔坏了，请退款", now=now)
    perform_action(cid, "agree", actor=seller, now=now)
    fund_guarantee(50_000, cid)
    (task,) = [t for t in tasks_of(cid) if t.kind == "refund"]
    sweep(now=task.due_at + timedelta(seconds=1))
    db.session.expire_all()
    return cid


# Read back through the PDF itself: poppler's pdftotext / pdfinfo / pdffonts when installed (Makefile:
# TEST_APT_PACKAGES), else pypdf (a test dependency) reading the same text layer, page tree and font objects.

def pdf_text(pdf, page=None):
    """The text of the PDF (or of one page, 1-based), as a PDF reader extracts it."""
    if shutil.which("pdftotext"):
        args = ["pdftotext", "-enc", "UTF-8"] + (["-f", str(page), "-l", str(page)] if page else [])
        return subprocess.run(args + ["-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    from pypdf import PdfReader
    pages = PdfReader(io.BytesIO(pdf)).pages
    return "\n".join(p.extract_text() or "" for p in (pages if page is None else [pages[page - 1]]))


def squeeze(text):
    """Text without any whitespace: a long hash or line may wrap anywhere."""
    return "".join(text.split())


FOOTER = re.compile(r"(案件|Case)TJ[0-9-]+·(生成时间|Generated).{0,200}?(第\d+页/共\d+页|Page\d+of\d+)")


def body_text(pdf):
    """squeeze(pdf_text) without the page footers: a message that runs over a page break reads whole."""
    return FOOTER.sub("", squeeze(pdf_text(pdf)))


def pdf_pages(pdf):
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
        return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    from pypdf import PdfReader
    return len(PdfReader(io.BytesIO(pdf)).pages)


def pdf_fonts(pdf):
    """[(font name, embedded?)] of every font the pages use."""
    if shutil.which("pdffonts"):
        out = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
        return [(line.split()[0], line.split()[-5] == "yes") for line in out.splitlines()[2:] if line.strip()]
    from pypdf import PdfReader
    fonts = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descriptor = (font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font).get(
                "/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            fonts[str(font["/BaseFont"])] = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    return sorted(fonts.items())
