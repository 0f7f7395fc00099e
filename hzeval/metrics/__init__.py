"""Metrics (DESIGN §5): the registry and the SQL engine."""

from hzeval.metrics.engine import DEADLINE_METRICS, Window, compute_items, roll_up
from hzeval.metrics.registry import FAMILIES, METRICS, Metric

__all__ = ["DEADLINE_METRICS", "FAMILIES", "METRICS", "Metric", "Window", "compute_items", "roll_up"]
