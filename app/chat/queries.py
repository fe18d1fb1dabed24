from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from .models import OrderMessage


def order_messages(order_id, *, page=1, per_page=50):
    where = OrderMessage.order_id == order_id
    total = db.session.execute(select(func.count()).select_from(OrderMessage).where(where)).scalar_one()
    rows = db.session.execute(select(OrderMessage).where(where).options(joinedload(OrderMessage.author))
                              .order_by(OrderMessage.id).limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return rows, total
