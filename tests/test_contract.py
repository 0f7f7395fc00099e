"""The contract module is consistent, and docs/contract.md is generated from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hzeval import contract
from hzeval.contract import SQL_TYPES, TABLES, TYPE_DOCS, V

ROOT = Path(__file__).resolve().parents[1]


def test_docs_contract_md_is_generated():
    doc = ROOT / "docs" / "contract.md"
    assert doc.read_text(encoding="utf-8") == contract.render_markdown(), "docs/contract.md is stale: run `make docs`"


@pytest.mark.parametrize("table", list(TABLES.values()), ids=list(TABLES))
def test_table_is_consistent(table):
    names = table.names
    assert len(names) == len(set(names)), "duplicate column names"
    zh = [c.zh for c in table.columns]
    assert len(zh) == len(set(zh)), "duplicate Chinese names"
    assert all(c.zh for c in table.columns)
    # every header spelling (name, zh, aliases) maps to one column
    spellings = [s for c in table.columns for s in (c.name, c.zh, *c.aliases)]
    assert len(spellings) == len(set(spellings)), "a header spelling names two columns"
    assert table.key and set(table.key) <= set(names), "key columns must be columns"
    assert set(table.key) <= set(table.required), "key columns must be required"
    assert table.required, "a table needs required columns"
    for c in table.columns:
        assert c.type in SQL_TYPES and c.type in TYPE_DOCS, c
        if c.vocab:
            assert c.vocab in V, f"{table.name}.{c.name}: unknown vocabulary {c.vocab}"
            assert c.type == "vocab"
        if c.ref:
            assert c.ref in ("agency", "resource")


def test_vocabulary_aliases_are_unambiguous():
    for v in V.values():
        seen: dict[str, str] = {}
        for canon, aliases in v.values.items():
            for a in (canon, *aliases):
                key = a.lower()
                assert seen.get(key, canon) == canon, f"{v.name}: {a!r} maps to {seen[key]} and {canon}"
                seen[key] = canon
        assert v.alias_map()[next(iter(v.values))] == next(iter(v.values))


def test_table_ddl_mentions_every_column():
    for t in TABLES.values():
        ddl = contract.table_ddl(t)
        for c in t.columns:
            assert f"{c.name} {c.sql_type}" in ddl
