"""Ingest: read a drop (CSV/XLSX/Parquet/JSONL), validate and normalise it against
:mod:`hzeval.contract`, quarantine bad rows in ``rejects`` and load the rest in one
transaction (DESIGN §3).

- :mod:`.readers` — file discovery, formats, encodings, header pass
- :mod:`.normalize` — header recognition and vectorised value parsing
- :mod:`.load` — the warehouse transaction (idempotence, replacement, calendar)
- :mod:`.report` — unresolved references, authority gaps and rejected rows (shown by :mod:`hzeval.cli.console`)
"""

from hzeval.ingest.load import FileResult, LoadResult, load_paths
from hzeval.ingest.report import authority_gaps, rejected_rows, unresolved_references

__all__ = ["FileResult", "LoadResult", "authority_gaps", "load_paths", "rejected_rows", "unresolved_references"]
