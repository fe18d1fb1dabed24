"""An image above the thumbnail pixel budget (EVIDENCE_THUMB_MAX_PIXELS) is accepted as evidence without a
thumbnail, through the API and the request form's photos, and the case page shows it without a preview."""
import io

import pytest

from app.cases.models import Case
from app.evidence.models import Evidence
from app.extensions import db

from ..factories import make_order
from .test_evidence_api import case_setup, png_bytes, upload  # noqa: F401  (case_setup is a fixture)


@pytest.fixture
def small_budget(app, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_THUMB_MAX_PIXELS", 1_000)  # a 40 x 30 PNG (1,200 pixels) is above it
    app.extensions.pop("evidence_store", None)
    yield
    app.extensions.pop("evidence_store", None)


def test_api_upload_above_the_budget_is_kept_without_thumbnail(client, case_setup, small_budget):  # noqa: F811
    case_id, _, _, b, _ = case_setup
    response = upload(client, b, case_id, png_bytes((40, 30)))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["has_thumbnail"] is False
    assert client.get(f"/api/v1/evidence/{body['id']}/content?thumbnail=1", headers=b).status_code == 404
    assert client.get(f"/api/v1/evidence/{body['id']}/content", headers=b).data == png_bytes((40, 30))
    small = upload(client, b, case_id, png_bytes((30, 30))).get_json()  # 900 pixels: within the budget
    assert small["has_thumbnail"] is True


def test_request_photo_above_the_budget_is_filed_and_shown_without_preview(client, ctx, login_as, small_budget):
    order, buyer, _ = make_order(state="delivered", price_fen=12_000)
    login_as(buyer)
    response = client.post(f"/orders/{order.id}/cases", content_type="multipart/form-data", data={
        "case-kind": "refund_only", "case-reason": "damaged", "case-amount": "120",
        "case-photos": [(io.BytesIO(png_bytes((40, 30))), "big.png")]})
    assert response.status_code == 302, response.get_data(as_text=True)
    case = db.session.query(Case).one()
    photo = db.session.query(Evidence).filter_by(case_id=case.id).one()
    assert photo.filename == "big.png" and photo.thumb_sha256 is None
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "thumbnail=1" not in page and f"/evidence/{photo.id}" in page
