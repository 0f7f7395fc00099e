"""PDF through headless Chromium (A4; the page CSS in :mod:`hzeval.pages` sets margins, the
"第 N 页 / 共 M 页" footer as an ``@page`` margin box, and page breaks that keep headings with
their tables; Chinese glyphs come from the system's Noto CJK fonts).

Chromium runs with a fresh profile in a temporary folder, no network services, and prints a
local ``file://`` page whose only script is the report folder's own plotly.js.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from hzeval.errors import HzevalError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium() -> str | None:
    """The Chromium executable (``$HZEVAL_CHROMIUM`` or the first of :data:`CANDIDATES` on PATH)."""
    env = os.environ.get("HZEVAL_CHROMIUM")
    if env:
        return env if shutil.which(env) else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


#: apt packages a PDF render needs (README, "PDF")
APT_PACKAGES = "chromium fonts-noto-cjk"


def cjk_font() -> str | None:
    """A Simplified Chinese font fontconfig knows (Noto / Source Han / WenQuanYi …), or None."""
    fc = shutil.which("fc-list")
    if fc is None:
        return None
    try:
        out = subprocess.run([fc, ":lang=zh-cn", "family"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    families = [line.strip() for line in out.splitlines() if line.strip()]
    return families[0] if families else None


def preflight() -> None:
    """Check, before anything is rendered, that a PDF can be printed: Chromium and a CJK font."""
    missing = []
    if find_chromium() is None:
        missing.append(("Chromium", "Chromium"))
    if cjk_font() is None:
        missing.append(("中文字体（Noto CJK）", "a CJK font (Noto CJK)"))
    if missing:
        raise HzevalError(
            f"无法生成 PDF：缺少{'、'.join(z for z, _ in missing)}，"
            f"请先安装 apt-get install {APT_PACKAGES}（未生成任何报告）",
            f"cannot print PDF: missing {', '.join(e for _, e in missing)};"
            f" install with apt-get install {APT_PACKAGES} (nothing rendered)",
        )


def print_pdf(html_path: Path, pdf_path: Path, timeout: float = 120) -> Path:
    """Print ``html_path`` to ``pdf_path`` atomically (temp file, then ``os.replace``)."""
    exe = find_chromium()
    if exe is None:
        raise HzevalError(
            "未找到 Chromium，无法生成 PDF（apt-get install chromium fonts-noto-cjk）",
            "Chromium not found: cannot print PDF (apt-get install chromium fonts-noto-cjk)",
        )
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    tmp = pdf_path.with_name(f".{pdf_path.name}.{os.getpid()}.tmp")
    with tempfile.TemporaryDirectory(prefix="hzeval-chromium-") as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            "--virtual-time-budget=10000",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={tmp}",
            html_path.as_uri(),
        ]
        # its own process group: on a timeout the whole browser (zygotes, renderers) is killed, not
        # only its first process, before its profile folder is removed
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except BaseException as exc:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
            tmp.unlink(missing_ok=True)
            if isinstance(exc, subprocess.TimeoutExpired):
                raise HzevalError(
                    f"Chromium 打印 {html_path.name} 超时", f"Chromium timed out printing {html_path.name}"
                ) from exc
            raise
        try:  # helpers the browser left behind (none normally) go before the profile folder
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if proc.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        tail = (stderr or "").strip().splitlines()[-1:] or [""]
        raise HzevalError(
            f"Chromium 打印 {html_path.name} 失败：{tail[0]}", f"Chromium failed to print {html_path.name}: {tail[0]}"
        )
    os.replace(tmp, pdf_path)
    return pdf_path
