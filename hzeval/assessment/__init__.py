"""Floor 4: the scheme, scoring, assess, adjustments, gates, supervision and explain. Data only:
nothing here prints."""
