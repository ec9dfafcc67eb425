"""Reading a config file: YAML 1.2 booleans, duplicate keys, every problem at once.

``load_config(path)`` returns a frozen :class:`~.model.IntegrationConfig` or
raises one :class:`~assoc_audit.errors.ConfigError` listing *every* problem
found, each with its YAML path, the bad value and the allowed values.
Structural problems (types, unknown keys, bad enum values) come from pydantic
(:mod:`.problems`); rules that span several fields (unique app objects, one
pair order, ``Primary`` only where HubSpot has a primary type, …) are checked
on every part that parsed (:mod:`.checks`), so one run reports both kinds
together. A key given twice is a problem naming its lines.

Values are never echoed when they could be secrets: anything under a key that
looks like a token, password or secret, any ``pat-…`` string, and the password
part of a URL are shown as ``<redacted>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from assoc_audit.config.checks import dedupe, semantic_problems
from assoc_audit.config.model import IntegrationConfig
from assoc_audit.config.problems import pydantic_problems, unknown_key_problem
from assoc_audit.errors import ConfigError, ConfigProblem

__all__ = ["load_config", "parse_config"]


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false are booleans (``sync: off`` stays the text 'off')."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), [_first]
    )


def load_config(path: str | Path) -> IntegrationConfig:
    """Read and validate an integration config file; raise ConfigError listing every problem."""
    file = Path(path)
    name = str(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(name, [ConfigProblem("", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(name, [ConfigProblem("", f"cannot read file: {reason}")]) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        duplicates = _duplicate_keys(node)
        raw = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(name, [ConfigProblem("", f"malformed YAML: {where}{problem}")]) from None
    finally:
        loader.dispose()
    if not duplicates:
        return parse_config(raw, base_dir=file.resolve().parent, source=name)
    try:  # the rest of the file's problems too, as YAML would read it (the last key wins)
        parse_config(raw, base_dir=file.resolve().parent, source=name)
        others: tuple[ConfigProblem, ...] = ()
    except ConfigError as exc:
        others = exc.problems
    raise ConfigError(name, [*duplicates, *others])


def _duplicate_keys(root: yaml.Node | None) -> list[ConfigProblem]:
    """Every key given twice (or more) in one mapping, at any depth, with its lines.

    YAML itself keeps the last one silently, which can drop a whole block
    (a second ``contacts:`` under ``objects``). Problems are in file order.
    """
    found: list[tuple[int, ConfigProblem]] = []
    seen: set[int] = set()
    todo: list[tuple[yaml.Node, str]] = [(root, "")] if root is not None else []
    while todo:
        node, where = todo.pop()
        if id(node) in seen:  # an alias: its anchor is checked once
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            lines: dict[tuple[str, str], list[int]] = {}
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                    continue
                lines.setdefault((key.tag, key.value), []).append(key.start_mark.line + 1)
                todo.append((value, f"{where}.{key.value}" if where else str(key.value)))
            for (_, text), at in lines.items():
                if len(at) > 1:
                    numbers = ", ".join(map(str, at[:-1])) + f" and {at[-1]}"
                    message = f"duplicate key on lines {numbers} (YAML would keep only the last)"
                    path = f"{where}.{text}" if where else text
                    found.append((at[0], ConfigProblem(path, message, text)))
        elif isinstance(node, yaml.SequenceNode):
            todo.extend((item, f"{where}[{i}]") for i, item in enumerate(node.value))
    return [problem for _, problem in sorted(found, key=lambda item: item[0])]


def parse_config(
    raw: Any, *, base_dir: Path | str = ".", source: str = "<config>"
) -> IntegrationConfig:
    """Validate an already-parsed config mapping (see :func:`load_config`)."""
    if not isinstance(raw, Mapping):
        got = "an empty file" if raw is None else f"a {type(raw).__name__}"
        raise ConfigError(source, [ConfigProblem("", f"expected a mapping of settings, got {got}")])
    problems: list[ConfigProblem] = []
    config: IntegrationConfig | None = None
    data = {k: v for k, v in raw.items() if k != "base_dir"}
    try:
        config = IntegrationConfig.model_validate({**data, "base_dir": Path(base_dir)})
    except ValidationError as exc:
        problems.extend(pydantic_problems(exc, raw))
    if "base_dir" in raw:
        problems.append(unknown_key_problem(("base_dir",), raw["base_dir"]))
    problems.extend(semantic_problems(raw, Path(base_dir)))
    if problems:
        raise ConfigError(source, dedupe(problems))
    assert config is not None
    return config
