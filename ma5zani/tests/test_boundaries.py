"""The layering the project promises, checked on the source: `conversations/` alone owns a
message's state (nothing outside it imports its private names or writes its rows), and the
engine knows no channel. A change that breaks a rule fails here with the file and line."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("channels_app", "conversations", "learning", "ma5zani", "replies", "sales", "sellers", "review", "bench")
WRITES = frozenset({"create", "bulk_create", "update", "delete", "save", "get_or_create", "update_or_create"})


def _modules(*folders: str, tests: bool = True) -> Iterator[tuple[Path, ast.Module]]:
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts or (not tests and ("tests" in path.parts or path.name == "testing.py")):
                continue
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_nothing_outside_conversations_imports_its_private_names():
    found = []
    outside = [app for app in APPS if app != "conversations"]
    for path, tree in _modules(*outside):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("conversations"):
                parts = (node.module or "").split(".")
                names = [alias.name for alias in node.names]
                if any(_private(part) for part in parts) or any(_private(name) for name in names):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} from {node.module} import {names}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("conversations") and any(_private(p) for p in alias.name.split(".")):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} import {alias.name}")
    assert found == []


def _model_names(tree: ast.Module) -> set[str]:
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "conversations.models"
        for alias in node.names
    }


def _root_name(node: ast.expr) -> str:
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


def test_channel_packages_never_write_the_message_paths_rows():
    """They translate and call conversations.services; reading (the widget's history) is fine."""
    found = []
    for path, tree in _modules("channels_app", tests=False):
        models = _model_names(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in WRITES
                and _root_name(node.func) in models
                and "objects" in ast.unparse(node.func)
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node.func)}")
    assert found == []


def test_the_engine_knows_no_channel_package():
    found = []
    for path, tree in _modules("sales"):
        if "engine" not in path.parts:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            modules = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            found += [f"{path.relative_to(ROOT)}:{node.lineno} {m}" for m in modules if m.startswith("channels_app")]
    assert found == []


def test_the_rules_catch_a_violation(tmp_path):
    """The checks above can fail: a private import and a write are found in a sample."""
    sample = ast.parse(
        "from conversations.services.reply import _burst\n"
        "from conversations.models import Message\n"
        "Message.objects.filter(pk=1).update(text='x')\n"
    )
    imports = [n for n in ast.walk(sample) if isinstance(n, ast.ImportFrom) and any(_private(a.name) for a in n.names)]
    writes = [
        n
        for n in ast.walk(sample)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in WRITES
        if _root_name(n.func) in _model_names(sample)
    ]
    assert len(imports) == 1 and len(writes) == 1
