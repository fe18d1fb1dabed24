"""PostgreSQL only: twenty complaints by one buyer about twenty listings, sent at the same moment, open at most
`max_open_listing_complaints_per_buyer` cases (the buyer's row is locked while they are counted); the others
are refused with a Conflict and write nothing."""
from sqlalchemy import func, select

from app.auth.models import User
from app.cases.models import Case
from app.cases.services import file_complaint
from app.errors import Conflict
from app.extensions import db
from app.rules import get_rules

from ..concurrency import race
from ..factories import make_product, make_user


def test_parallel_listing_complaints_respect_the_limit(app, ctx):
    buyer, seller = make_user("buyer"), make_user("seller")
    listings = [make_product(seller.shop).id for _ in range(20)]
    buyer_id = buyer.id

    def complain(listing_id):
        return lambda: file_complaint(actor=db.session.get(User, buyer_id), listing_id=listing_id,
                                      type="listing_violation")
    results = race(app, [complain(listing_id) for listing_id in listings])
    top = get_rules()["max_open_listing_complaints_per_buyer"]
    assert sum(isinstance(r, Case) for r in results) == top
    assert all(isinstance(r, (Case, Conflict)) for r in results), results
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(Case)).scalar_one() == top
