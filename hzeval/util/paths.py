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
import shutil
from pathlib import Path

from hzeval.errors import UnsafePathError, clip
from hzeval.util import faults


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


# ---- a folder written whole or not at all (issue 30 item 8): stage beside it, then swap it in


def _pid_alive(name: str) -> bool:
    """Whether the process whose id ends ``name`` (``.<folder>.staging-<pid>``) still runs."""
    try:
        pid = int(name.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def staging_folder(final: Path) -> Path:
    """A fresh staging folder beside ``final`` holding a copy of it (when it exists), after
    :func:`recover_swap`: what a render writes into before :func:`swap_in`."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    recover_swap(final)
    staging = final.with_name(f".{final.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    if final.is_dir():
        shutil.copytree(final, staging, symlinks=True)
    else:
        staging.mkdir()
    return staging


def recover_swap(final: Path) -> None:
    """Repair what a killed render left beside ``final``: killed between :func:`swap_in`'s two
    renames, ``final`` is missing and ``.<name>.old-<pid>`` is the previous folder, whole: it is
    renamed back. Leftover staging folders (of processes no longer running) and old folders are removed."""
    final = Path(final)
    olds = sorted(final.parent.glob(f".{final.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if not final.exists() and olds:
        os.rename(olds.pop(), final)
    stale = [p for p in final.parent.glob(f".{final.name}.staging-*") if not _pid_alive(p.name)]
    for p in olds + stale:
        shutil.rmtree(p, ignore_errors=True)


def swap_in(staging: Path, final: Path) -> None:
    """Put ``staging`` in the place of ``final`` with renames (a directory cannot be renamed over a
    non-empty one): ``final`` → ``.<name>.old-<pid>``, ``staging`` → ``final``, remove the old one.
    A kill between the renames leaves the old folder whole, which :func:`recover_swap` restores."""
    final = Path(final)
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        os.rename(final, old)
    faults.checkpoint("report-mid-swap")
    os.rename(staging, final)
    shutil.rmtree(old, ignore_errors=True)
