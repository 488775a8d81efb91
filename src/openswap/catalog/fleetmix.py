"""Fleet-mix files for coverage studies: which vehicle models, how many, carrying which adapters.

```yaml
fleet:
  - vehicle_model: deepway-xingtu-6x4-qiji
    count: 120
    adapters: [adp-conn-qiji-to-qct1201a]   # optional
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openswap.catalog.yamlsource import YamlDocument, parse_yaml
from openswap.domain.catalog import Catalog
from openswap.domain.coverage import FleetEntry
from openswap.domain.errors import CatalogError, Problem

_FIELDS = ("vehicle_model", "count", "adapters")


def _entry(doc: YamlDocument, i: int, raw: Any, cat: Catalog) -> FleetEntry | list[Problem]:
    path: tuple[str | int, ...] = ("fleet", i)
    if not isinstance(raw, dict):
        return [doc.problem("must be a mapping with vehicle_model and count", path)]
    problems = [
        doc.problem(f"unknown field {key!r} (expected one of {', '.join(_FIELDS)})", (*path, key))
        for key in raw
        if key not in _FIELDS
    ]
    model_id = raw.get("vehicle_model")
    model = None
    if not isinstance(model_id, str):
        problems.append(doc.problem("vehicle_model must be a vehicle model id", path))
    elif model_id not in cat.vehicle_models:
        problems.append(
            doc.problem(f"unknown vehicle model {model_id!r}", (*path, "vehicle_model"))
        )
    else:
        model = cat.vehicle_models[model_id]
    count = raw.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        problems.append(
            doc.problem(f"count must be a whole number >= 1, got {count!r}", (*path, "count"))
        )
    adapter_ids = raw.get("adapters", [])
    adapters = []
    if not isinstance(adapter_ids, list):
        problems.append(doc.problem("adapters must be a list of adapter ids", (*path, "adapters")))
    else:
        for j, aid in enumerate(adapter_ids):
            if aid in cat.adapters:
                adapters.append(cat.adapters[aid])
            else:
                problems.append(doc.problem(f"unknown adapter {aid!r}", (*path, "adapters", j)))
    if problems or model is None or not isinstance(count, int):
        return problems
    return FleetEntry(model, count, tuple(adapters))


def load_fleet_mix(path: Path, cat: Catalog) -> tuple[FleetEntry, ...]:
    """Read a fleet-mix file against `cat`; raises `CatalogError` naming file, line and field."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError([Problem(f"cannot read: {exc.strerror}", str(path))]) from None
    doc = parse_yaml(text, str(path))
    entries = doc.data.get("fleet") if isinstance(doc.data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise CatalogError([doc.problem("expected a non-empty list under 'fleet:'", ())])
    problems: list[Problem] = []
    fleet: list[FleetEntry] = []
    for i, raw in enumerate(entries):
        result = _entry(doc, i, raw, cat)
        if isinstance(result, list):
            problems.extend(result)
        else:
            fleet.append(result)
    if problems:
        raise CatalogError(problems)
    return tuple(fleet)
