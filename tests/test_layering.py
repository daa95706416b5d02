"""The package's layers import downward only, and `import gradcheck` stays light."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gradcheck"

# Lower number = lower layer. A module may import only modules of its own layer or below.
LAYERS = {
    "errors": 0,
    "_validate": 0,
    "_jsonsafe": 0,
    "_progress": 0,
    "_vocab": 0,
    "_thin": 0,
    "_table": 0,
    "tree": 0,
    "numeric": 1,
    "check": 2,
    "checking": 2,
    "check_setup": 2,
    "results": 2,
    "diagnose": 2,
    "diagnose_patterns": 2,
    "diagnose_hints": 2,
    "layers": 2,
    "adapters": 2,
    "layer_diagnose": 2,
    "layer_results": 2,
    "batch_independence": 2,
    "function_pair": 2,
    "layer_check": 2,
    "layer_contract": 2,
    "layer_shapes": 2,
    "norm_diagnose": 2,
    "nn": 3,
    "monitor": 4,
    "report": 5,
    "cli": 6,
    "commands": 6,
    "testing": 6,
    "__main__": 6,
}
HEAVY = ("matplotlib", "pytest", "hypothesis", "sklearn")


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "gradcheck":
        return None
    if len(parts) == 1:
        return 6
    return LAYERS.get(parts[1])


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


# DESIGN.md sanctions one upward arrow: `Monitor.report(path)` and the `save(path)` methods of
# results delegate to the reporting layer, through an import inside that method only.
DELEGATING_METHODS = {"report", "save"}


def _delegating_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in DELEGATING_METHODS:
            skipped.update(id(inner) for inner in ast.walk(node) if inner is not node)
    return skipped


def imported_modules(path: Path, *, allow_delegation: bool = False):
    tree = ast.parse(path.read_text())
    skipped = _delegating_nodes(tree) if allow_delegation else set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module == "gradcheck" and node.level == 0:
            names = [f"gradcheck.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        delegated = id(node) in skipped
        yield from (n for n in names if not (delegated and n.startswith("gradcheck.report")))


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=[module_name(p) for p in SOURCES])
def test_imports_point_down(path):
    name = module_name(path)
    own = layer_of(name)
    if name == "gradcheck":
        return  # the package face re-exports from every layer
    assert own is not None, f"{name} is in no layer: add it to LAYERS in {__file__}"
    for imported in imported_modules(path, allow_delegation=True):
        other = layer_of(imported)
        if other is not None:
            assert other <= own, f"{name} (layer {own}) imports {imported} (layer {other})"


def test_nn_does_not_import_checking_or_monitoring():
    for path in (PACKAGE / "nn").glob("*.py"):
        for imported in imported_modules(path):
            assert not imported.startswith(("gradcheck.check", "gradcheck.monitor")), path


def test_monitor_knows_nothing_of_nn():
    for path in (PACKAGE / "monitor").glob("*.py"):
        for imported in imported_modules(path):
            assert not imported.startswith("gradcheck.nn"), path


def test_import_gradcheck_loads_no_heavy_dependency():
    code = f"import sys, gradcheck; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
