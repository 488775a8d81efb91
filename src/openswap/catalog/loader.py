"""Loading catalogs: user YAML files, the built-in catalog shipped as package data, or both.

Every problem in every file is collected and raised together as one `CatalogError`; a catalog is
returned only when nothing is wrong, so callers never see a half-built catalog.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, NamedTuple

from openswap.catalog.entries import DeclaredId, Located, Reference, validate_document
from openswap.catalog.resolve import resolve
from openswap.catalog.schema import Entry
from openswap.catalog.yamlsource import parse_yaml
from openswap.domain.catalog import Catalog
from openswap.domain.errors import CatalogError, InputError, Problem

BUILTIN_PREFIX = "builtin:"
_SPEC_DIR = "specs"  # frames, pack and vehicle models, station designs, adapters
_DEMO_DIR = "demo"  # demo assets: packs, vehicles and stations


class CatalogText(NamedTuple):
    """The text of one catalog file and the name under which its problems are reported."""

    file: str
    text: str


def load_catalog_texts(texts: Sequence[CatalogText]) -> Catalog:
    """Parse, validate and resolve several catalog documents into one `Catalog`.

    Documents merge into one catalog, so any file may refer to ids defined in another. Ids must
    be unique per kind across all documents. Raises `CatalogError` with every problem found.
    """
    problems: list[Problem] = []
    entries: list[Located[Entry]] = []
    declared: list[DeclaredId] = []
    references: list[Reference] = []
    for file, text in texts:
        try:
            doc = parse_yaml(text, file)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        validated = validate_document(doc)
        entries += validated.entries
        declared += validated.declared
        references += validated.references
        problems += validated.problems
    catalog, unresolved = resolve(entries, declared, references)
    problems += unresolved
    if problems:
        rank = {t.file: i for i, t in enumerate(texts)}
        problems.sort(key=lambda p: (rank.get(p.file or "", len(rank)), p.line or 0))
        raise CatalogError(problems)
    return catalog


def load_catalog_data(data: Mapping[str, Any], base: Catalog, file: str = "request") -> Catalog:
    """Validate and resolve catalog entries given as plain data (sections of entries, as in a
    catalog file; e.g. a JSON request body) that may refer to the specifications of `base`.

    Returns `base`'s specifications plus the new entries. Raises `CatalogError` with every
    problem, each naming its field path (`frames[0].envelope.length_mm`).
    """
    try:
        text = json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise CatalogError([Problem(f"not plain JSON data: {exc}", file)]) from None
    doc = parse_yaml(text, file)
    validated = validate_document(doc)
    catalog, unresolved = resolve(validated.entries, validated.declared, validated.references, base)
    problems = [*validated.problems, *unresolved]
    if problems:
        raise CatalogError(problems)
    return catalog


def _read(path: Path) -> CatalogText | Problem:
    try:
        return CatalogText(str(path), path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return Problem(f"cannot read catalog file: {reason}", str(path))


def _yaml_files(folder: Traversable) -> Iterator[Traversable]:
    yield from sorted(
        (f for f in folder.iterdir() if f.is_file() and f.name.endswith((".yaml", ".yml"))),
        key=lambda f: f.name,
    )


def builtin_texts(*, assets: bool = True) -> list[CatalogText]:
    """The built-in catalog files, read from package data (`openswap/catalog/data`).

    With `assets=False` only the specifications are returned, not the demo packs, vehicles
    and stations. File names are reported as `builtin:<folder>/<name>`.
    """
    data = resources.files("openswap.catalog").joinpath("data")
    folders = (_SPEC_DIR, _DEMO_DIR) if assets else (_SPEC_DIR,)
    return [
        CatalogText(f"{BUILTIN_PREFIX}{folder}/{f.name}", f.read_text(encoding="utf-8"))
        for folder in folders
        for f in _yaml_files(data.joinpath(folder))
    ]


@functools.cache
def builtin_catalog(*, assets: bool = True) -> Catalog:
    """The built-in catalog: specifications drawn from the domain facts, each with sources,
    plus (with `assets=True`) demo packs, vehicles and stations. Read-only and cached.
    """
    return load_catalog_texts(builtin_texts(assets=assets))


def load_catalog(
    paths: Sequence[Path], *, include_builtin: bool = False, builtin_assets: bool = True
) -> Catalog:
    """Load catalog YAML files into one validated `Catalog`.

    With `include_builtin`, the built-in catalog is loaded first, so the files may refer to
    its ids (and may not redefine them); `builtin_assets=False` leaves out its demo assets.
    Raises `CatalogError` listing every problem, unreadable files included.
    """
    texts = builtin_texts(assets=builtin_assets) if include_builtin else []
    unreadable: list[Problem] = []
    for path in paths:
        read = _read(Path(path))
        if isinstance(read, Problem):
            unreadable.append(read)
        else:
            texts.append(read)
    try:
        catalog = load_catalog_texts(texts)
    except CatalogError as exc:
        raise CatalogError([*unreadable, *exc.problems]) from None
    if unreadable:
        raise CatalogError(unreadable)
    return catalog


def load_catalog_with_builtin(paths: Sequence[Path], *, builtin_assets: bool = True) -> Catalog:
    """The built-in catalog extended by the files at `paths` (see `load_catalog`)."""
    return load_catalog(paths, include_builtin=True, builtin_assets=builtin_assets)
