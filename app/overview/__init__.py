"""The mediator overview and the reason analysis: read-only aggregates over all cases."""
