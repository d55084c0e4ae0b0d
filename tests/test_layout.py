"""The package's layout holds: imports flow one way, nothing imports in a circle, the public names resolve."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

import convlab
from convlab.lesson.explain import Trace

SOURCE = Path(convlab.__file__).parent

# Lower layers never import higher ones. Within a layer, modules may import each other (without cycles).
LAYERS = {
    "errors": 0,
    "diagnose": 1,  # value checks: sees only errors
    "_args": 2,
    "_arrays": 2,
    "_files": 2,  # safe file writing, reading and memory limits, shared by the interfaces
    "_readers": 2,
    "_memory": 2,
    "_display": 2,  # notebook display: HTML strings and small PNG plots, used by the result classes
    "functional": 3,
    "nn": 4,
    "network": 5,
    "optim": 5,  # optimizers update nn parameters
    "dask": 6,  # tiled convolution and networks on dask arrays: beside the lesson, above nn and network
    "lesson": 6,  # the lesson explains networks, so it may use them; networks never use the lesson
    "train": 6,  # the training loop runs nn models built by the network, updated by optim
    "data": 6,  # bundled data, and the model convlab trained (built by train's model files)
    "viz": 7,
    "bench": 7,
    "web": 8,
    "widgets": 8,  # notebook widgets: an interface beside the page (they read its static files, never import it)
    "cli": 9,
    "__init__": 10,
    "__main__": 10,
}


def _module_name(path: Path) -> str:
    parts = ["convlab", *path.relative_to(SOURCE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(path: Path) -> set[str]:
    """Every convlab module ``path`` imports, at the top or inside functions; type-checking imports aside."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _type_checking_only(node):
            return
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.startswith("convlab"):
                found.add(target)
                found.update(f"{target}.{alias.name}" for alias in node.names)  # `from . import nn`
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("convlab"))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in SOURCE.rglob("*.py")}
    packages = {name for name, path in modules.items() if path.name == "__init__.py"}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        # an imported name that is not a module (a function) stands for the module it comes from
        targets = {target if target in modules else target.rsplit(".", 1)[0] for target in _imports(path)}
        graph[name] = {
            t for t in targets if t in modules and t != name and not (t in packages and name.startswith(t + "."))
        }
    return graph


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    return LAYERS[top]


def test_every_top_level_module_has_a_layer() -> None:
    tops = {path.relative_to(SOURCE).parts[0].removesuffix(".py") for path in SOURCE.rglob("*.py")}
    assert tops <= set(LAYERS), f"give {sorted(tops - set(LAYERS))} a layer"


def test_imports_flow_from_interfaces_down_to_the_engine() -> None:
    upward = [
        f"{source} (layer {_layer(source)}) imports {target} (layer {_layer(target)})"
        for source, targets in _graph().items()
        for target in sorted(targets)
        if _layer(target) > _layer(source) and target != "convlab"
    ]
    assert not upward, "\n".join(upward)


def test_diagnose_imports_nothing_above_errors() -> None:
    assert _graph()["convlab.diagnose"] == {"convlab.errors"}


def test_no_module_imports_itself_in_a_circle() -> None:
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def walk(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                walk(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_the_direction_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The checker itself: a functional module that imports the network is caught."""
    fake = tmp_path / "convlab" / "functional" / "fake.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("def f():\n    from ..network.summary import summary\n")
    assert "convlab.network.summary" in _imports_relative_to(fake, tmp_path / "convlab")


def _imports_relative_to(path: Path, root: Path) -> set[str]:
    global SOURCE
    saved, SOURCE = SOURCE, root
    try:
        return _imports(path)
    finally:
        SOURCE = saved


def test_public_names_resolve() -> None:
    for name in convlab.__all__:
        assert getattr(convlab, name) is not None, name
    assert convlab.receptive_field.__module__ == "convlab.network.receptive_field"
    assert convlab.labs.__name__ == "convlab.lesson.labs"


def test_explain_is_the_readmes_function() -> None:
    image = [[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]]
    trace = convlab.explain(image, [[1, 0], [0, -1]], at=(1, 0))
    assert isinstance(trace, Trace)
    assert trace.value == pytest.approx(5 * 1 + 3 * 0 + 2 * 0 + 1 * -1)  # the lesson's out[1, 0] = 4
    assert np.asarray(trace.output).shape == (3, 3)


def _private_uses(path: Path) -> list[str]:
    """Names with a leading underscore that ``path`` takes from another convlab module, by import or as
    ``module._name``."""
    modules = {_module_name(p) for p in SOURCE.rglob("*.py")}
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text())
    imported_modules: dict[str, str] = {}
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            named = [node.module] if node.module else []
            target = ".".join([*base, *named]) if node.level else node.module or ""
            if not target.startswith("convlab"):
                continue
            for alias in node.names:
                if f"{target}.{alias.name}" in modules:
                    imported_modules[alias.asname or alias.name] = f"{target}.{alias.name}"
                elif alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{module}: from {target} import {alias.name}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in imported_modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{module}:{node.lineno}: {imported_modules[node.value.id]}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names() -> None:
    found = [use for path in sorted(SOURCE.rglob("*.py")) for use in _private_uses(path)]
    assert not found, "\n".join(found)


def test_the_private_name_check_sees_both_forms(tmp_path: Path) -> None:
    fake = tmp_path / "convlab" / "cli" / "fake.py"
    fake.parent.mkdir(parents=True)
    (tmp_path / "convlab" / "cli" / "network.py").write_text("")
    fake.write_text("from .network import _model\nfrom . import network\nnetwork._load(1)\n")
    global SOURCE
    saved, SOURCE = SOURCE, tmp_path / "convlab"
    try:
        found = _private_uses(fake)
    finally:
        SOURCE = saved
    assert found == [
        "convlab.cli.fake: from convlab.cli.network import _model",
        "convlab.cli.fake:3: convlab.cli.network._load",
    ]


def test_only_the_registry_tests_for_a_layer_kind() -> None:
    """Whole-network code asks a layer kind what it declares, never ``isinstance(op, Conv)``: adding a kind
    stays one class in network/layer_kinds.py."""
    from convlab.network import graph, layer_kinds

    kinds = {
        name
        for name, value in vars(layer_kinds).items()
        if isinstance(value, type) and issubclass(value, graph.Op)
    }
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        if path.name == "layer_kinds.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance":
                named = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
                named |= {n.attr for n in ast.walk(node.args[1]) if isinstance(n, ast.Attribute)}
                if named & kinds:
                    found.append(f"{path.relative_to(SOURCE)}:{node.lineno}: {ast.unparse(node)}")
    assert not found, "\n".join(found)


def test_the_readmes_layout_names_every_folder_and_module() -> None:
    """A newcomer finds a feature's home from README's Layout: every package folder and module is named there
    (``*_kernels.py`` stands for the compiled loops beside their algorithm)."""
    readme = (SOURCE.parents[1] / "README.md").read_text()
    layout = readme.split("## Layout", 1)[1].split("```")[1]
    unnamed = []
    for path in sorted(SOURCE.rglob("*")):
        if "__pycache__" in path.parts or path.name.startswith("__"):
            continue
        if path.is_dir():
            named = f"{path.name}/" in layout
        elif path.suffix == ".py":
            named = re.search(rf"\b{re.escape(path.stem)}\b", layout) is not None
            named |= path.stem.endswith("_kernels") and "*_kernels.py" in layout
        else:
            continue
        if not named:
            unnamed.append(str(path.relative_to(SOURCE)))
    assert not unnamed, f"name these in README's Layout: {unnamed}"
