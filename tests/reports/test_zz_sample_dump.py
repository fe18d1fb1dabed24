import os
from app.timeutil import utcnow
from .stories import mediated_ruling, negotiated_refund
from .test_case_report import report, the_case

def test_dump(client, ctx):
    now = utcnow().replace(microsecond=0)
    cid, mediator = mediated_ruling(now)
    for lang in ("zh", "en"):
        open(f"/tmp/rep/ruling-{lang}.pdf", "wb").write(report(client, cid, mediator, lang))
    cid = negotiated_refund(now, images=3, messages=["消息 %d：" % i + "很长的文字" * (i * 7) for i in range(30)])
    open("/tmp/rep/refund-zh.pdf", "wb").write(report(client, cid, the_case(cid).buyer, "zh"))
