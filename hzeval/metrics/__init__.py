"""Metrics (DESIGN §5): the registry (derived from the SQL declarations) and the SQL engine."""

from hzeval.metrics.engine import Window, compute_items, roll_up
from hzeval.metrics.registry import (
    DEADLINE_KEYS,
    DEADLINE_METRICS,
    FAMILIES,
    METRICS,
    SUPERVISION_CATEGORY,
    VETO_METRIC,
    Metric,
)

__all__ = [
    "DEADLINE_KEYS",
    "DEADLINE_METRICS",
    "FAMILIES",
    "METRICS",
    "SUPERVISION_CATEGORY",
    "VETO_METRIC",
    "Metric",
    "Window",
    "compute_items",
    "roll_up",
]
