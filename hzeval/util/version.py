"""Which code made a run (DESIGN §10): the package version (one place, ``hzeval.__version__``) and, when
the package runs from a git checkout, the commit it runs at — ``0.1.0+g8d42c20`` (PEP 440 local
version), with ``.dirty`` when the checkout has uncommitted changes."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

from hzeval import __version__


@cache
def git_revision() -> str | None:
    """The short commit of the checkout this package runs from (None outside a checkout or without git)."""
    here = Path(__file__).resolve().parents[1]
    try:
        top = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if top.returncode != 0 or Path(top.stdout.strip()).resolve() != here.parent:
            return None  # not a checkout of hzeval (e.g. an installed wheel inside some other repository)
        rev = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--short=7", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no", "--", "hzeval"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{rev}.dirty" if rev and dirty else rev or None


def code_version() -> str:
    """The version recorded with each run and printed by ``hzeval --version``."""
    rev = git_revision()
    return f"{__version__}+g{rev}" if rev else __version__
