"""Output files: paths built from data stay inside their output folder (issue 13, DESIGN §3), and
every file is written whole or not at all (:func:`write_atomic`).

Agency codes name report files. The contract already rejects codes outside
``contract.CODE_PATTERN`` at load; :func:`inside` is the second wall: every output path that
contains a value from data is built with it and checked, after resolving ``..`` and symbolic
links, to lie inside the output folder.
"""

from __future__ import annotations

import hashlib
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


def sha256_file(path: Path) -> str:
    d = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            d.update(chunk)
    return d.hexdigest()


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write ``content`` to a temporary file beside ``path``, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if isinstance(content, str):
            tmp.write_text(content, encoding="utf-8")
        else:
            tmp.write_bytes(content)
        os.replace(tmp, path)
    except OSError as exc:
        if exc.filename is None:  # a failed write() names no file: say which one
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    finally:
        tmp.unlink(missing_ok=True)
