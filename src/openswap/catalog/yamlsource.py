"""YAML documents that remember where every value came from.

`parse_yaml` composes the node tree once with PyYAML's SafeLoader, records the 1-based line of
every path (tuple of mapping keys and sequence indices), rejects duplicate keys (which PyYAML
would silently overwrite) and only then constructs plain Python data from the same tree.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from openswap.domain.errors import InputError, Problem

PathKey = str | int | bool | float | None
YamlPath = tuple[PathKey, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"


def format_path(path: YamlPath) -> str:
    """`("pack_models", 3, "nominal_voltage_v")` -> `pack_models[3].nominal_voltage_v`."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """Plain data (dicts, lists, scalars) of one YAML file and the line of each path."""

    file: str
    data: Any
    lines: Mapping[YamlPath, int] = field(default_factory=dict)

    def line_of(self, path: YamlPath) -> int | None:
        """1-based line of `path`, or of its nearest ancestor that exists in the file.

        A missing field has no line of its own, so it is reported at the entry that lacks it.
        """
        probe = path
        while True:
            line = self.lines.get(probe)
            if line is not None or not probe:
                return line
            probe = probe[:-1]

    def problem(self, message: str, path: YamlPath) -> Problem:
        """A problem located at `path` of this document."""
        return Problem(message, self.file, self.line_of(path), format_path(path) or None)


class _Walker:
    """Records lines and duplicate keys while walking a composed node tree."""

    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.lines: dict[YamlPath, int] = {}
        self.problems: list[Problem] = []
        # An aliased node is walked once only: this keeps nested aliases ("billion laughs")
        # linear; paths reached through a later alias fall back to their ancestor's line.
        self.seen: set[int] = set()

    def walk(self, node: yaml.Node, path: YamlPath) -> None:
        if id(node) in self.seen:
            return
        self.seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            self._walk_mapping(node, path)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                item_path = (*path, index)
                self.lines.setdefault(item_path, item.start_mark.line + 1)
                self.walk(item, item_path)

    def _walk_mapping(self, node: yaml.MappingNode, path: YamlPath) -> None:
        first_line: dict[Hashable, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                # Merge keys and complex keys are left to the constructor, which either
                # flattens them or raises a located error.
                continue
            key = self.loader.construct_object(key_node)
            line = key_node.start_mark.line + 1
            key_path = (*path, key)
            if key in first_line:
                self.problems.append(
                    Problem(
                        f"duplicate key {key!r} (first at line {first_line[key]}); "
                        "YAML would silently keep only the last value",
                        self.file,
                        line,
                        format_path(key_path),
                    )
                )
                continue
            first_line[key] = line
            self.lines[key_path] = line
            self.walk(value_node, key_path)


def _mark_problem(exc: yaml.YAMLError, file: str) -> Problem:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        line = mark.line + 1 if mark is not None else None
        return Problem(f"malformed YAML: {what or exc}", file, line)
    return Problem(f"malformed YAML: {exc}", file)


def parse_yaml(text: str, file: str) -> YamlDocument:
    """Parse one YAML document from `text`; `file` is the name used in messages.

    Raises `InputError` naming the file and line for malformed YAML, and listing every
    duplicate key of the document (at the line of the second occurrence). An empty document
    gives `data=None`.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(file, None, {})
        walker = _Walker(loader, file)
        walker.lines[()] = node.start_mark.line + 1
        walker.walk(node, ())
        if walker.problems:
            raise InputError(walker.problems)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise InputError([_mark_problem(exc, file)]) from None
    except RecursionError:
        raise InputError([Problem("malformed YAML: nesting too deep", file)]) from None
    finally:
        loader.dispose()
    return YamlDocument(file, data, walker.lines)
