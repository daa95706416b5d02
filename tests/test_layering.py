"""The package's layers import downward only, and `import gradcheck` stays light."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gradcheck"

# The layers are folders. Lower number = lower layer; a module may import only modules of its
# own layer or below. A module's layer is its folder's: a new module in a folder needs no edit here.
FOLDERS = {
    "numeric": 1,
    "diagnose": 2,
    "checking": 3,
    "nn": 4,
    "monitor": 5,
    "report": 6,
    "commands": 7,
    "testing": 7,
}
# Top-level modules are the foundation (layer 0), except the faces: the command line and the
# documented re-export modules, which sit above everything they re-export.
FACES = {"cli", "__main__", "layers", "adapters"}
FOUNDATION, FACE = 0, 7
HEAVY = ("matplotlib", "pytest", "hypothesis", "sklearn")


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "gradcheck":
        return None
    if len(parts) == 1 or parts[1] in FACES:
        return FACE
    if parts[1] in FOLDERS:
        return FOLDERS[parts[1]]
    return FOUNDATION if (PACKAGE / f"{parts[1]}.py").exists() else None


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
    assert own is not None, f"{name} is in no layer: add its folder to FOLDERS in {__file__}"
    for imported in imported_modules(path, allow_delegation=True):
        other = layer_of(imported)
        if other is not None:
            assert other <= own, f"{name} (layer {own}) imports {imported} (layer {other})"


CHECKING_OR_MONITORING = ("gradcheck.checking", "gradcheck.diagnose", "gradcheck.monitor")


def test_nn_does_not_import_checking_or_monitoring():
    for path in (PACKAGE / "nn").glob("*.py"):
        for imported in imported_modules(path):
            assert not imported.startswith(
                (
                    "gradcheck.checking",
                    "gradcheck.diagnose",
                    "gradcheck.monitor",
                    "gradcheck.layers",
                )
            ), path


def test_monitor_knows_nothing_of_nn():
    for path in (PACKAGE / "monitor").glob("*.py"):
        for imported in imported_modules(path):
            assert not imported.startswith("gradcheck.nn"), path


def test_import_gradcheck_loads_no_heavy_dependency():
    code = f"import sys, gradcheck; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_every_folder_has_a_layer_and_a_place_in_the_architecture_map():
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert folders == set(FOLDERS), "give each folder of the package its layer in FOLDERS"
    text = (PACKAGE.parent / "docs" / "ARCHITECTURE.md").read_text()
    assert [f for f in sorted(folders) if f"{f}/" not in text] == []
