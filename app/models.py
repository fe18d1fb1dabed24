"""Every area's models, imported once so SQLAlchemy and Alembic see the whole schema."""
from .auth.models import ApiToken, LoginFailure, User  # noqa: F401
from .auth.models import MediatorTeam, MediatorTeamCategory, MediatorTeamMember  # noqa: F401
from .catalog.models import Product, Shop  # noqa: F401
from .orders.models import Order, OrderItem  # noqa: F401
from .payments.models import Account, JournalEntry, JournalLine  # noqa: F401
from .shipping.models import Shipment  # noqa: F401
from .cases.models import Case, CaseEvent, CaseMessage, CaseRating  # noqa: F401
from .chat.models import OrderMessage, case_message_evidence  # noqa: F401
from .evidence.models import Evidence  # noqa: F401
from .execution.models import ExecutionTask, Penalty  # noqa: F401
from .reports.models import CaseReport  # noqa: F401
from .admin_audit import AdminEvent  # noqa: F401
from .metrics.models import ShopDailyStats  # noqa: F401
from .overview.models import INDEXES  # noqa: F401  (indexes for the overview on cases and case_events)
from .rules import RuleSetting  # noqa: F401
