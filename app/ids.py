"""Row ids as clients send them: integers within the database's primary-key range."""
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # integer primary keys on PostgreSQL


class IdConverter(IntegerConverter):
    """An id past the database's integer range matches no row: it converts to 0 (no row has it), so
    the view answers 404. (With `max=` the rule would not match, and Werkzeug answers 405 whenever
    a rule for another method exists on the same path.)"""

    def to_python(self, value):
        value = super().to_python(value)
        return value if value <= MAX_ID else 0
