"""The house rules (docs/architecture.md) that tests can check: the emulator stands alone,
light start-up paths, module and function sizes, working aliases for moved modules.
The import contracts themselves run as `lint-imports` in `make test`."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "assoc_audit"
HEAVY = ("pandas", "duckdb", "pyarrow", "numpy", "matplotlib")
#: What `import assoc_audit.<anything>` loads besides the module itself: the root package
#: with its error tree and the two helpers it uses (none imports the engine).
ROOT_MODULES = {"assoc_audit", "assoc_audit.errors", "assoc_audit.lazy", "assoc_audit.moved"}


def _loaded_after(code: str) -> list[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_emulator_loads_no_engine_module_and_no_dataframe_library():
    loaded = _loaded_after("import assoc_audit.sandbox.server")
    ours = {m for m in loaded if m.startswith("assoc_audit")}
    engine = ours - ROOT_MODULES - {m for m in ours if m.startswith("assoc_audit.sandbox")}
    assert engine == set()
    assert [m for m in HEAVY if m in loaded] == []


@pytest.mark.parametrize(
    "argv", [["--help"], ["check", "--config", str(ROOT / "examples" / "minimal.yaml")]]
)
def test_help_and_check_start_without_pandas_duckdb_or_matplotlib(argv):
    code = (
        "import contextlib, io\n"
        "from assoc_audit.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    try:\n        main({argv!r})\n    except SystemExit:\n        pass"
    )
    loaded = _loaded_after(code)
    assert [m for m in ("pandas", "duckdb", "matplotlib") if m in loaded] == []


def test_import_assoc_audit_is_light_and_the_public_names_still_load():
    assert [m for m in HEAVY if m in _loaded_after("import assoc_audit")] == []
    import assoc_audit

    assert callable(assoc_audit.run_audit) and assoc_audit.IntegrationConfig.__name__


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_module_over_500_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules()
        if (n := len(p.read_text().splitlines())) > 500
    }
    assert long == {}


#: A function over this many lines must say why in a comment starting ``# long function:``
#: in the comment block right above its ``def`` (or its decorators).
MAX_FUNCTION_LINES = 80


def test_no_function_over_80_lines_without_a_reason():
    unexplained = []
    for path in _modules():
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            size = node.end_lineno - start + 1  # type: ignore[operator]
            if size <= MAX_FUNCTION_LINES:
                continue
            above = start - 2  # 0-based index of the line above
            while above >= 0 and lines[above].strip().startswith("#"):
                above -= 1
            comments = lines[above + 1 : start - 1]
            if not any(line.strip().startswith("# long function:") for line in comments):
                unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({size})")
    assert unexplained == []


def test_moved_modules_work_by_their_old_names_with_a_deprecation_warning():
    from assoc_audit.moved import MOVED

    for old, new in MOVED.items():
        sys.modules.pop(old, None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module = __import__(old, fromlist=["_"])
        assert module.__name__ == new
        assert any(issubclass(w.category, DeprecationWarning) and new in str(w.message)
                   for w in caught), old  # fmt: skip
        sys.modules.pop(old, None)
