"""Reading back what a user would see, fresh from the database."""
from app.cases.models import Case
from app.execution.models import ExecutionTask
from app.extensions import db
from app.orders.models import Order
from app.orders.queries import money_for
from app.payments.verify import verify_money


def fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def case_of(case_id):
    return fresh(Case, case_id)


def order_of(order_id):
    return fresh(Order, order_id)


def task_of(task_id):
    return fresh(ExecutionTask, task_id)


def money(order_id):
    return money_for([order_id])[order_id]


def assert_money_ok():
    """Every invariant of the money holds (the checks of `flask payments verify`)."""
    db.session.rollback()
    violations = verify_money()
    assert violations == [], "\n".join(map(str, violations))
