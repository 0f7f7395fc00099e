"""Floor 1: the warehouse, the working-day calendar and the published runs (publishing, recovery and
the one resolver of which run to read)."""
