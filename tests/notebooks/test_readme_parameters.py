"""The README's parameter tables match what papermill reads from each notebook."""

from __future__ import annotations

import re

from nb_support import NOTEBOOKS, ROOT

from assoc_audit.notebook.runner import notebook_parameters

ROW = re.compile(
    r"^\| `(?P<name>\w+)` \| `(?P<type>[^`]+)` \| `(?P<default>[^`]*)` \| (?P<help>.*) \|$"
)


def readme_tables() -> dict[str, list[tuple[str, str, str, str]]]:
    """Notebook file name → the rows of its parameters table in README.md's Notebooks section."""
    text = (ROOT / "README.md").read_text("utf-8")
    section = text.split("\n## Notebooks\n", 1)[1].split("\n## ", 1)[0]
    tables: dict[str, list[tuple[str, str, str, str]]] = {}
    current = None
    for line in section.splitlines():
        heading = re.match(r"^### `notebooks/(?P<file>[\w.]+\.ipynb)`$", line)
        if heading:
            current = heading["file"]
            tables[current] = []
            continue
        row = ROW.match(line)
        if row and current:
            help_text = row["help"].replace("\\|", "|")
            tables[current].append((row["name"], row["type"], row["default"], help_text))
    return tables


def test_readme_lists_every_notebook_and_its_parameters_exactly():
    tables = readme_tables()
    assert sorted(tables) == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    for name, rows in tables.items():
        declared = notebook_parameters(NOTEBOOKS / name)
        expected = [
            (p, spec["inferred_type_name"], spec["default"], spec["help"])
            for p, spec in declared.items()
        ]
        assert rows == expected, name
