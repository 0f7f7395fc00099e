"""Bounds on what one drop file may make ``load`` do (DESIGN §3; issue 13).

Every limit is checked *before* the expensive step it protects (XLSX sizes before the
workbook is parsed, the header width before the rows are read) and names the file.
Defaults suit the city's exports many times over; each can be raised with an environment
variable (``HZEVAL_MAX_FIELD_CHARS`` also with ``hzeval load --max-field-chars``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hzeval.errors import HzevalError


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HzevalError(
            f"环境变量 {name} 应为正整数：{raw[:40]}", f"{name} must be a positive integer: {raw[:40]!r}"
        ) from None
    return max(value, 1)


@dataclass(frozen=True)
class Limits:
    #: characters in one cell: a longer value rejects its row (reason names the limit)
    max_field_chars: int = 100_000
    #: columns in a header: more is an error for the file
    max_columns: int = 1_000
    #: sum of the uncompressed sizes of an XLSX's parts (zip bomb guard)
    max_xlsx_bytes: int = 512 * 1024 * 1024
    #: rows of an XLSX sheet (from its declared dimension and its row count while checking)
    max_xlsx_rows: int = 1_048_576

    @classmethod
    def from_env(cls, **overrides) -> "Limits":
        d = cls()
        values = {
            "max_field_chars": _env_int("HZEVAL_MAX_FIELD_CHARS", d.max_field_chars),
            "max_columns": _env_int("HZEVAL_MAX_COLUMNS", d.max_columns),
            "max_xlsx_bytes": _env_int("HZEVAL_MAX_XLSX_BYTES", d.max_xlsx_bytes),
            "max_xlsx_rows": _env_int("HZEVAL_MAX_XLSX_ROWS", d.max_xlsx_rows),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
