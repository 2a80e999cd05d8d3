"""The import rules of docs/architecture.md hold, and its module diagram is the one the code makes."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _module_graph():
    spec = importlib.util.spec_from_file_location("module_graph", ROOT / "scripts" / "module_graph.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["module_graph"] = module
    spec.loader.exec_module(module)
    return module


mg = _module_graph()


def test_the_backend_keeps_its_import_rules_and_the_diagram_is_current(capsys) -> None:
    assert mg.main(["--check"]) == 0, capsys.readouterr().out


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny backend to break the rules in."""
    for name in ("lib", "org", "actions"):
        (tmp_path / "backend" / name).mkdir(parents=True)
        (tmp_path / "backend" / name / "__init__.py").write_text("")
    (tmp_path / "media_store").mkdir()
    (tmp_path / "media_store" / "__init__.py").write_text("")
    monkeypatch.setattr(mg, "ROOT", tmp_path)
    return tmp_path


def _write(tree: Path, module: str, source: str) -> None:
    (tree / Path(*module.split("."))).with_suffix(".py").write_text(textwrap.dedent(source))


def test_an_import_up_the_layers_is_reported(tree: Path) -> None:
    _write(tree, "backend.actions.services", "def act(): ...\n")
    _write(tree, "backend.org.services", "from backend.actions.services import act\n")
    assert any("actions is not below org" in p for p in mg.problems(mg.build()))


def test_lib_importing_a_domain_is_reported(tree: Path) -> None:
    _write(tree, "backend.org.services", "X = 1\n")
    _write(tree, "backend.lib.auth", "from backend.org.services import X\n")
    assert any("org is not below lib" in p for p in mg.problems(mg.build()))


def test_a_cycle_and_an_import_hidden_in_a_function_are_reported(tree: Path) -> None:
    _write(tree, "backend.org.a", "from backend.org import b\n")
    _write(tree, "backend.org.b", "from backend.org import a\n")
    _write(tree, "backend.org.c", "def f():\n    from backend.actions import x\n")
    _write(tree, "backend.actions.x", "")
    found = mg.problems(mg.build())
    assert "import cycle: backend.org.a -> backend.org.b" in found
    assert any("backend.org.c:2 imports backend.actions.x inside a function" in p for p in found)


def test_imports_only_for_type_checking_are_not_dependencies(tree: Path) -> None:
    _write(tree, "backend.actions.x", "")
    _write(
        tree,
        "backend.org.services",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from backend.actions import x\n",
    )
    assert mg.problems(mg.build()) == []
