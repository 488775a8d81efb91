"""Terminal rendering shared by the CLI commands: plain-data conversion and Rich tables."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Any

from rich.console import Console
from rich.table import Table


def to_plain(value: Any) -> Any:
    """Domain objects to JSON-ready data: dataclasses to dicts, enums to values, sets sorted."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(to_plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """Stable, indented JSON of `value` (via `to_plain`)."""
    return json.dumps(to_plain(value), indent=2, sort_keys=True, ensure_ascii=False)


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A Rich table with a header row; cells are rendered with str()."""
    out = Table(title=title, title_justify="left", header_style="bold")
    for col in columns:
        out.add_column(col)
    for row in rows:
        out.add_row(*(str(cell) for cell in row))
    return out


def console() -> Console:
    """The console every command prints to (stdout); wide enough for rule tables in a pipe."""
    return Console(width=None if Console().is_terminal else 160)
