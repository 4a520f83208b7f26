"""lang/ is pure: standard library, RE2 (google-re2, only in lang/regex.py), other lang/
modules and flowport.errors only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import flowport.lang

LANG = Path(flowport.lang.__file__).parent
MODULES = sorted(LANG.rglob("*.py"))
THIRD_PARTY = {"re2": {"regex.py"}}  # module -> the lang/ files that may import it


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: use absolute flowport.lang imports"
            out.add(node.module or "")
    return out


def test_lang_imports_only_stdlib_and_lang():
    assert MODULES
    for path in MODULES:
        for name in _imports(path):
            top = name.split(".")[0]
            if top == "flowport":
                assert name.startswith("flowport.lang") or name == "flowport.errors", (path, name)
            else:
                allowed = path.name in THIRD_PARTY.get(top, ())
                assert top in sys.stdlib_module_names or top == "__future__" or allowed, (path, name)


def test_no_function_over_80_lines_without_a_reason():
    for path in MODULES:
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > 80:
                    head = "\n".join(lines[node.lineno - 1:node.lineno + 3])
                    assert "# long:" in head, f"{path.name}:{node.lineno} {node.name} has {length} lines"


def test_exprlang_public_names_still_import():
    from flowport.lang import exprlang

    for name in exprlang.__all__:
        assert getattr(exprlang, name) is not None
