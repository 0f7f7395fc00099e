"""Shared by the dashboard tests: a published sample warehouse (2024 and 2025 runs) and users."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
PASSWORDS = {"boss": "leader-pass-1", "eva": "evaluator-pass-1", "hz101": "agency-pass-101"}
ROLES = {"boss": "leader", "eva": "evaluator", "hz101": "agency:HZ101"}
OWN, OTHER = "HZ101", "HZ102"


@pytest.fixture(scope="session")
def published(sample_warehouse, tmp_path_factory):
    """(published folder, users file, warehouse path): a copy of the session's sample warehouse."""
    from conftest import copy_sample
    from hzeval.dashboard.auth import add_user
    from hzeval.publish import published_dir

    db = copy_sample(sample_warehouse, tmp_path_factory, "dash")
    base = db.parent
    users = base / "users.json"
    for name, pw in PASSWORDS.items():
        add_user(users, name, pw, ROLES[name], iterations=2_000)
    return published_dir(db), users, db
