"""The admin console's forms. Every write asks why (the audit record's reason); the services check the
values and their problems are shown beside the fields."""
import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (DecimalField, HiddenField, PasswordField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..auth.models import ROLES
from ..cases.forms import yuan
from ..catalog.models import CATEGORIES
from ..labels import label


class _Reason:
    reason = TextAreaField(_l("Reason (kept in the audit log)"), validators=[Optional()])


class CheckboxesField(SelectMultipleField):
    widget, option_widget = ListWidget(prefix_label=False), CheckboxInput()


class UserForm(_Reason, FlaskForm):
    username = StringField(_l("Username"), validators=[Optional()])
    display_name = StringField(_l("Display name"), validators=[Optional()])
    role = SelectField(_l("Role"), validators=[Optional()])
    shop_id = SelectField(_l("Shop (sellers)"), coerce=lambda v: int(v) if v not in (None, "", "None") else None,
                          validators=[Optional()])
    password = PasswordField(_l("Password (leave empty to generate one)"), validators=[Optional()])

    def fill(self, shops):
        self.role.choices = [(r, label("role", r)) for r in ROLES]
        self.shop_id.choices = [("", "—")] + [(shop_id, name) for shop_id, name in shops]
        if not self.role.data:
            self.role.data = "mediator"
        return self


class ActiveForm(_Reason, FlaskForm):
    pass


class PasswordResetForm(_Reason, FlaskForm):
    password = PasswordField(_l("New temporary password (leave empty to generate one)"), validators=[Optional()])


class TeamForm(_Reason, FlaskForm):
    name = StringField(_l("Team name"), validators=[Optional()])
    categories = CheckboxesField(_l("Categories"), validators=[Optional()])
    members = CheckboxesField(_l("Mediators"), coerce=int, validators=[Optional()])

    def fill(self, mediators):
        self.categories.choices = [(c, label("category", c)) for c in CATEGORIES]
        self.members.choices = [(m.id, f"{m.display_name} ({m.username})" + ("" if m.is_active else " ✕"))
                                for m in mediators]
        return self


class DeleteForm(_Reason, FlaskForm):
    pass


class RuleForm(_Reason, FlaskForm):
    value = StringField(_l("New value"), validators=[Optional()])


class DepositForm(_Reason, FlaskForm):
    amount = DecimalField(_l("Required deposit (¥)"), places=2, validators=[Optional(), yuan])


class TopUpForm(_Reason, FlaskForm):
    amount = DecimalField(_l("Amount paid in (¥)"), places=2, validators=[Optional(), yuan])
    key = HiddenField()

    def fresh_key(self):
        if not self.key.data:
            self.key.data = secrets.token_hex(8)
        return self


class RetryForm(_Reason, FlaskForm):
    pass
