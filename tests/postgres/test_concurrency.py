"""PostgreSQL only: real concurrent transactions."""
import threading

from sqlalchemy import func, select

from app.errors import ActionNotAvailable, Conflict
from app.extensions import db
from app.orders.queries import money_for
from app.orders.services import perform_order_action
from app.payments.models import JournalEntry

from ..factories import make_order


def _race(app, n, work):
    barrier, results = threading.Barrier(n), []

    def run():
        with app.app_context():
            barrier.wait()
            try:
                results.append(work())
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                results.append(exc)
            finally:
                db.session.remove()
    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_ten_buyers_clicking_pay_at_once_pay_once(app, ctx):
    order, buyer, _ = make_order(state="created", price_fen=4_200)
    results = _race(app, 10, lambda: perform_order_action(order.id, "pay", actor=buyer).status)
    assert results.count("paid") == 1
    assert all(isinstance(r, (ActionNotAvailable, Conflict)) for r in results if r != "paid")
    assert money_for([order.id])[order.id]["paid_fen"] == 4_200
    assert db.session.execute(select(func.count()).select_from(JournalEntry)).scalar_one() == 1
