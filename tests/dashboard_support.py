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
def published(tmp_path_factory):
    """(published folder, users file, warehouse path) built from data_samples/."""
    from hzeval.assess import run_assessment
    from hzeval.dashboard.auth import add_user
    from hzeval.ingest import load_paths
    from hzeval.publish import published_dir
    from hzeval.warehouse import connect

    base = tmp_path_factory.mktemp("dash")
    db = base / "wh.duckdb"
    with connect(db) as con:
        load_paths(con, [ROOT / "data_samples"], progress=False)
    run_assessment(db, 2024, dt.datetime(2025, 1, 6))
    run_assessment(db, 2025, dt.datetime(2026, 1, 5))
    users = base / "users.json"
    for name, pw in PASSWORDS.items():
        add_user(users, name, pw, ROLES[name], iterations=2_000)
    return published_dir(db), users, db
