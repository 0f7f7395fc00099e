"""Output paths built from data stay inside their output folder (issue 13, DESIGN §3).

Agency codes name report files. The contract already rejects codes outside
``contract.CODE_PATTERN`` at load; :func:`inside` is the second wall: every output path that
contains a value from data is built with it and checked, after resolving ``..`` and symbolic
links, to lie inside the output folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from hzeval.errors import UnsafePathError, clip


def inside(root: str | os.PathLike, *parts: str) -> Path:
    """``root / parts``, refused unless it resolves to a path inside ``root``."""
    root = Path(root)
    path = root.joinpath(*parts)
    base = root.resolve()
    target = path.resolve()
    if target == base or not target.is_relative_to(base):
        shown = clip("/".join(str(p) for p in parts), 80)
        raise UnsafePathError(
            f"拒绝写出 {shown}：路径不在输出文件夹 {root} 之内（代码只能含字母、数字、- 和 _）",
            f"refusing to write {shown!r}: it lies outside the output folder {root}",
            path=str(path),
        )
    return path
