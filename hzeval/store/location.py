"""Where the warehouse lives: ``--db``, else ``$HZEVAL_DB``, else ``./hzeval.duckdb``. Its published
runs live beside it (:func:`hzeval.store.published.published_dir`)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB = "hzeval.duckdb"


def db_path(path: str | os.PathLike | None = None) -> Path:
    return Path(path or os.environ.get("HZEVAL_DB") or DEFAULT_DB)
