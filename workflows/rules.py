"""The rules table: every deadline and limit, with DOMAIN.md's defaults.

Deadlines are in hours. Override any entry by configuration (`RULES` in the app config,
or the TIAOJIE_RULES environment variable as JSON)."""
from types import MappingProxyType

DEFAULTS = MappingProxyType({
    # orders
    "default_ship_within_hours": 48,        # promised ship time (发货承诺)
    "order_auto_confirm_hours": 10 * 24,    # receipt auto-confirmed 10 days after shipping
    "after_sales_window_hours": 15 * 24,    # after-sales requests on completed orders
})


class Rules:
    def __init__(self, overrides=None):
        unknown = set(overrides or {}) - set(DEFAULTS)
        if unknown:
            raise KeyError(f"unknown rules: {', '.join(sorted(unknown))}")
        self._values = {**DEFAULTS, **(overrides or {})}

    def __getitem__(self, key):
        return self._values[key]

    def items(self):
        return self._values.items()

    def is_default(self, key):
        return self._values[key] == DEFAULTS[key]
