"""Validation of one parsed catalog document into located entries.

Each entry of each section is validated on its own, so one bad entry never hides the problems
of the next; every pydantic error becomes a `Problem` with file, line and dotted field path.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from openswap.catalog.schema import SECTIONS, Entry, field_names_at, reference_paths
from openswap.catalog.yamlsource import YamlDocument, YamlPath
from openswap.domain.errors import Problem

E_co = TypeVar("E_co", bound=Entry, covariant=True)


@dataclass(frozen=True, slots=True)
class Located(Generic[E_co]):
    """A validated entry and where it was written: document and path `(section, index)`."""

    entry: E_co
    doc: YamlDocument
    path: YamlPath

    def problem(self, message: str, *loc: str | int) -> Problem:
        """A problem at field `loc` of this entry (the entry itself when `loc` is empty)."""
        return self.doc.problem(message, (*self.path, *loc))


@dataclass(frozen=True, slots=True)
class DeclaredId:
    """An id (or pack serial) as written, valid entry or not: for duplicates and references."""

    section: str
    ident: str
    doc: YamlDocument
    path: YamlPath

    def where(self) -> str:
        line = self.doc.line_of(self.path)
        return f"{self.doc.file}:{line}" if line is not None else self.doc.file


@dataclass(frozen=True, slots=True)
class Reference:
    """An id one entry refers to, as written, with the section it must be defined in."""

    target: str
    ident: str
    doc: YamlDocument
    path: YamlPath


@dataclass(slots=True)
class ValidatedDocument:
    entries: list[Located[Entry]]
    declared: list[DeclaredId]
    references: list[Reference]
    problems: list[Problem]


def suggest(name: str, candidates: list[str] | tuple[str, ...]) -> list[str]:
    """Up to three close matches of `name` among `candidates`, best first."""
    return difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)


def describe_error(err: ErrorDetails, model: type[BaseModel]) -> str:
    """One readable sentence for a pydantic error of `model` (unknown fields get a hint)."""
    loc = tuple(err["loc"])
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        name = str(loc[-1])
        known = field_names_at(model, loc[:-1])
        close = suggest(name, known)
        if close:
            return f"unknown field {name!r}; did you mean {close[0]!r}?"
        return f"unknown field {name!r} (known fields: {', '.join(known)})"
    if kind == "missing":
        return f"missing required field {loc[-1]!r}" if loc else "missing required field"
    if kind in ("enum", "literal_error"):
        expected = err.get("ctx", {}).get("expected", "")
        return f"{value!r} is not allowed; allowed values: {expected}"
    if kind == "model_type" and not loc:
        return "an entry must be a mapping of field names to values"
    message = err["msg"]
    if kind != "out_of_range" and isinstance(value, str | int | float | bool):
        message += f" (got {value!r})"
    return message


def _validate_entry(
    doc: YamlDocument, section: str, index: int, item: Any, out: ValidatedDocument
) -> None:
    model = SECTIONS[section]
    path: YamlPath = (section, index)
    if isinstance(item, dict) and isinstance(item.get(model.id_field), str):
        declared = DeclaredId(section, item[model.id_field], doc, (*path, model.id_field))
        out.declared.append(declared)
    for loc, ident, target in reference_paths(section, item):
        out.references.append(Reference(target, ident, doc, (*path, *loc)))
    try:
        entry = model.model_validate(item)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            out.problems.append(doc.problem(describe_error(err, model), (*path, *err["loc"])))
        return
    cross = entry.cross_field_problems()
    for loc, message in cross:
        out.problems.append(doc.problem(message, (*path, *loc)))
    if not cross:
        out.entries.append(Located(entry, doc, path))


def validate_document(doc: YamlDocument) -> ValidatedDocument:
    """Validate every section and entry of `doc`; never raises for bad content."""
    out = ValidatedDocument([], [], [], [])
    if doc.data is None:
        return out
    if not isinstance(doc.data, dict):
        out.problems.append(
            doc.problem("the top level must be a mapping of sections: " + ", ".join(SECTIONS), ())
        )
        return out
    for section, items in doc.data.items():
        if section not in SECTIONS:
            close = suggest(str(section), tuple(SECTIONS))
            hint = (
                f"; did you mean {close[0]!r}?" if close else f" (sections: {', '.join(SECTIONS)})"
            )
            out.problems.append(doc.problem(f"unknown section {section!r}{hint}", (section,)))
            continue
        if items is None:
            continue
        if not isinstance(items, list):
            out.problems.append(doc.problem(f"{section} must be a list of entries", (section,)))
            continue
        for index, item in enumerate(items):
            _validate_entry(doc, section, index, item, out)
    return out
