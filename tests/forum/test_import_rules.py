"""The seams between packages, checked by parsing every module's imports (issue 13):

1. the mail package imports no feature package (it describes notifications through the
   registry in forum/hooks.py, ``register_notification_kind``);
2. live Q&A has no function-local import of another feature package (what it needs of
   moderation goes through ``hooks.moderator_desk``);
3. no module uses a name starting with ``_`` from another package, imported
   (``from forum.live import _small``) or through a module
   (``from forum import live; live._small``, ``import forum.live; forum.live._small``).

``forum`` is the core every package may import; the rest are feature packages.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = sorted(
    p.name
    for p in ROOT.iterdir()
    if (p / "__init__.py").is_file() and p.name not in ("tests", "migrations")
)
CORE = "forum"
FEATURES = [p for p in PACKAGES if p != CORE]


def modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _top(name: str) -> str:
    return name.split(".")[0]


def imports(tree: ast.AST):
    """(node, module name, imported names, inside a function?) of absolute imports."""

    def walk(node, in_function):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
            )
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield child, alias.name, [], in_function
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                yield child, child.module, [a.name for a in child.names], in_function
            yield from walk(child, inner)

    yield from walk(tree, False)


def _bound_and_imported(package: str, tree: ast.AST) -> tuple[dict[str, str], list[str]]:
    """Local names bound to another package's modules or objects, and the private names
    imported outright."""
    found: list[str] = []
    bound: dict[str, str] = {}
    for node, module, _names, _inside in imports(tree):
        if _top(module) == package or _top(module) not in PACKAGES:
            continue
        if any(part.startswith("_") and part != "__init__" for part in module.split(".")):
            found.append(f"line {node.lineno}: {module}")
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound[alias.asname or _top(alias.name)] = alias.name
            continue
        for alias in node.names:
            if alias.name.startswith("_"):
                found.append(f"line {node.lineno}: from {module} import {alias.name}")
            bound[alias.asname or alias.name] = f"{module}.{alias.name}"
    return bound, found


def foreign_private_uses(package: str, tree: ast.AST) -> list[str]:
    """Private names of other packages this module imports or reaches through a module."""
    bound, found = _bound_and_imported(package, tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain, base = [node.attr], node.value
        while isinstance(base, ast.Attribute):
            chain.append(base.attr)
            base = base.value
        if not isinstance(base, ast.Name) or base.id not in bound:
            continue
        if any(a.startswith("_") and not a.startswith("__") for a in chain):
            found.append(f"line {node.lineno}: {base.id}.{'.'.join(reversed(chain))}")
    return found


def test_the_packages_are_found():
    assert CORE in PACKAGES and {"mail", "qa", "moderation", "budgets"} <= set(FEATURES)


def test_mail_imports_no_feature_package():
    offending = [
        f"{path.relative_to(ROOT)} line {node.lineno}: {module}"
        for path, tree in modules("mail")
        for node, module, _names, _inside in imports(tree)
        if _top(module) in FEATURES and _top(module) != "mail"
    ]
    assert offending == []


def test_qa_has_no_function_local_import_of_another_feature():
    offending = [
        f"{path.relative_to(ROOT)} line {node.lineno}: {module}"
        for path, tree in modules("qa")
        for node, module, _names, inside in imports(tree)
        if inside and _top(module) in FEATURES and _top(module) != "qa"
    ]
    assert offending == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_private_name_of_another_package(package):
    offending = [
        f"{path.relative_to(ROOT)} {use}"
        for path, tree in modules(package)
        for use in foreign_private_uses(package, tree)
    ]
    assert offending == []


def test_the_checker_sees_each_way_of_reaching_a_private_name():
    """The rules above would pass vacuously if the parser missed a form: each form is caught."""
    samples = {
        "from forum.live import _small": 1,
        "from forum import live\nlive._small({})": 1,
        "from forum import live as fl\nfl._MANAGER_KEY": 1,
        "import forum.live\nforum.live._server()": 1,
        "from forum._private import x": 1,
        "from forum import live\nlive.small_message({})": 0,
        "from . import _mine\n_mine._x": 0,  # the package's own
    }
    for source, expected in samples.items():
        assert len(foreign_private_uses("qa", ast.parse(source))) == expected, source
    local = "def f():\n    from moderation import services\n"
    assert [inside for _n, _m, _names, inside in imports(ast.parse(local))] == [True]
