"""Penalties that bite: a shop's standing (points in force, restriction, blacklist), who sees it, and the
admin lifting it early. The penalties themselves are written by execution tasks (app/execution)."""
