"""The package's floors (DESIGN §2), checked from the code's own imports, as sqlmesh's ``banned-api``
lint rules and dbt's ``requires`` decorators keep theirs.

Every ``import`` of an hzeval module is read, at module level and inside functions: the test fails
on an import circle, an arrow that runs upward, an arrow between two surfaces, an hzeval import
inside a function below the entry floor (the way round a circle), an ``__init__.py`` that does more
than re-export, and a module that sits on no floor. README's "Where things are" names each floor.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "hzeval"

#: module prefix → floor, from the ground up (DESIGN §2); the longest matching prefix wins
FLOORS = {
    "hzeval": 0,
    "hzeval.contract": 0,
    "hzeval.errors": 0,
    "hzeval.util": 0,
    "hzeval.store": 1,
    "hzeval.ingest": 2,
    "hzeval.rules": 2,
    "hzeval.metrics": 3,
    "hzeval.assessment": 4,
    "hzeval.runs": 5,
    "hzeval.present": 5,
    "hzeval.pages": 5,
    "hzeval.reports": 6,
    "hzeval.dashboard": 6,
    "hzeval.workbench": 6,
    "hzeval.notify": 6,
    "hzeval.cli": 7,
    "hzeval.scheduled": 7,
    "hzeval.services": 7,
}
FLOOR_NAMES = {
    0: "contract, errors, util",
    1: "store",
    2: "ingest, rules",
    3: "metrics",
    4: "assessment",
    5: "runs, present, pages",
    6: "surfaces",
    7: "entry points",
}
SURFACE_FLOOR = 6
ENTRY_FLOOR = 7
#: beside the floors: the sample-drop generator imports the contract and the store only
BESIDE = {"hzeval.samples": ("hzeval.samples", "hzeval.contract", "hzeval.errors", "hzeval.store")}


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    line: int
    in_function: bool

    def __str__(self) -> str:
        where = "inside a function" if self.in_function else "at module level"
        return f"{self.source} → {self.target} ({module_path(self.source)}:{self.line}, {where})"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def module_path(name: str) -> str:
    return str(MODULES[name].relative_to(ROOT))


def floor(name: str) -> int | None:
    if any(name == b or name.startswith(b + ".") for b in BESIDE):
        return None
    best = max((p for p in FLOORS if name == p or name.startswith(p + ".")), key=len, default=None)
    return FLOORS[best] if best is not None else None


def surface(name: str) -> str:
    return ".".join(name.split(".")[:2])


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The hzeval modules an import statement loads (``from pkg import mod`` names the module)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            base = module.split(".")
            if not MODULES[module].name == "__init__.py":
                base = base[:-1]
            base = base[: len(base) - (node.level - 1)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        names = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in MODULES else prefix for a in node.names]
    out = []
    for n in names:
        while n and n not in MODULES:  # ``import hzeval.x.y`` of a name inside a module
            n = n.rpartition(".")[0]
        if n.startswith("hzeval") and n != module:
            out.append(n)
    return out


def arrows() -> list[Arrow]:
    found = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))

        def walk(node: ast.AST, in_function: bool, name: str = name) -> None:
            for child in ast.iter_child_nodes(node):
                inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    found.extend(Arrow(name, t, child.lineno, in_function) for t in _targets(name, child))
                walk(child, inner)

        walk(tree, False)
    return found


ARROWS = arrows()


def test_the_reader_sees_the_imports_it_must_judge():
    """The checks below are only as good as this reading: known arrows must be found."""
    pairs = {(a.source, a.target) for a in ARROWS}
    assert ("hzeval.store.warehouse", "hzeval.store.published") in pairs
    assert ("hzeval.reports.workbook", "hzeval.reports.approval") in pairs
    assert any(a.source.startswith("hzeval.cli") and a.in_function for a in ARROWS)  # the entry's lazy loads
    assert len(MODULES) > 60


def test_every_module_sits_on_a_floor():
    homeless = [m for m in MODULES if floor(m) is None and not any(m == b or m.startswith(b + ".") for b in BESIDE)]
    assert floor("hzeval.samples.generator") is None and floor("hzeval.rules.profiles") == 2
    assert not homeless, f"modules on no floor of DESIGN §2 (add them to FLOORS and README's map): {homeless}"


def test_no_import_circles():
    graph: dict[str, set[str]] = {}
    for a in ARROWS:
        graph.setdefault(a.source, set()).add(a.target)

    # a package's __init__ re-exporting its own modules is not a circle of theirs
    def edges(m: str) -> set[str]:
        return {t for t in graph.get(m, ()) if not (MODULES[t].name == "__init__.py" and m.startswith(t + "."))}

    state: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(edges(m)):
            if state.get(t) == 1:
                circles.append(stack[stack.index(t) :] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(MODULES):
        if m not in state:
            visit(m)
    assert not circles, "import circles:\n" + "\n".join(" → ".join(c) for c in circles)


def test_arrows_run_downward_only():
    upward = [
        a
        for a in ARROWS
        if floor(a.source) is not None and floor(a.target) is not None and floor(a.target) > floor(a.source)
    ]
    assert not upward, "arrows that run upward (DESIGN §2):\n" + "\n".join(
        f"{a}  [floor {floor(a.source)} {FLOOR_NAMES[floor(a.source)]} → floor {floor(a.target)}]" for a in upward
    )


def test_surfaces_never_import_one_another():
    across = [
        a
        for a in ARROWS
        if floor(a.source) == SURFACE_FLOOR == floor(a.target) and surface(a.source) != surface(a.target)
    ]
    assert not across, "arrows between surfaces (the services gather their jobs instead):\n" + "\n".join(
        map(str, across)
    )


def test_no_internal_import_inside_a_function_below_the_entry_floor():
    """An import inside a function is for a heavy library or for an entry point loading a surface
    lazily, never a way round a circle."""
    inner = [a for a in ARROWS if a.in_function and (floor(a.source) or 0) < ENTRY_FLOOR]
    assert not inner, "hzeval imports inside functions below the entry floor:\n" + "\n".join(map(str, inner))


@pytest.mark.parametrize("beside", sorted(BESIDE))
def test_the_sample_generator_imports_the_contract_and_the_store_only(beside):
    allowed = BESIDE[beside]
    bad = [
        a
        for a in ARROWS
        if (a.source == beside or a.source.startswith(beside + "."))
        and not any(a.target == p or a.target.startswith(p + ".") for p in allowed)
    ]
    assert not bad, "\n".join(map(str, bad))
    assert not [a for a in ARROWS if a.target.startswith(beside) and not a.source.startswith(beside)], (
        "the package must not depend on the sample generator"
    )


def _only_reexports(tree: ast.Module) -> list[str]:
    bad = []
    for i, node in enumerate(tree.body):
        if i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Assign) and all(
            isinstance(t, ast.Name) and t.id in ("__all__", "__version__") for t in node.targets
        ):
            continue
        bad.append(f"line {node.lineno}: {type(node).__name__}")
    return bad


def test_package_inits_only_reexport():
    found = {
        module_path(m): bad
        for m, p in MODULES.items()
        if p.name == "__init__.py" and (bad := _only_reexports(ast.parse(p.read_text(encoding="utf-8"))))
    }
    assert not found, f"__init__.py files that do more than re-export: {found}"


def test_the_checks_fail_on_what_they_forbid():
    """Each rule, held against a planted arrow, says no (so a green run means something)."""
    planted = [
        Arrow("hzeval.rules", "hzeval.metrics.registry", 1, False),
        Arrow("hzeval.dashboard.views", "hzeval.reports.render", 1, False),
        Arrow("hzeval.metrics.engine", "hzeval.store.calendar", 1, True),
    ]
    up, across, inner = planted
    assert floor(up.target) > floor(up.source)
    assert floor(across.source) == SURFACE_FLOOR == floor(across.target) and surface(across.source) != surface(
        across.target
    )
    assert inner.in_function and floor(inner.source) < ENTRY_FLOOR
    tree = ast.parse('"""doc"""\nfrom x import y\n__all__ = ["y"]\ndef f():\n    pass\n')
    assert _only_reexports(tree) == ["line 4: FunctionDef"]


def test_readme_map_names_every_floor():
    """README's "Where things are" is the map of these floors: each floor's packages are named there."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Where things are" in readme
    section = readme.split("## Where things are", 1)[1].split("\n## ", 1)[0]
    for prefix in [*FLOORS, *BESIDE]:
        if prefix == "hzeval":
            continue
        shown = prefix.replace(".", "/")
        shown = shown + "/" if (ROOT / shown).is_dir() else shown + ".py"
        assert f"`{shown}`" in section, f"README's map does not name {shown}"
