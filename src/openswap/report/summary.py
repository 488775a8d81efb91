"""`summary.json` as strict JSON: NaN and infinities become null, keys are sorted.

The renderers normalise every summary through `to_json_ready` first, so a page rendered from a
fresh run and one rendered from the folder it wrote are the same bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

SUMMARY_SCHEMA = "openswap.summary/1"


def to_json_ready(value: Any, where: str = "summary") -> Any:
    """`value` as strict JSON data: NaN and infinities become None, numpy scalars plain Python
    numbers, tuples lists, mapping keys strings. Raises TypeError naming the offending key."""
    if isinstance(value, Mapping):
        return {str(k): to_json_ready(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_ready(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    raise TypeError(f"{where}: {type(value).__name__} is not JSON data")


def dumps_summary(summary: Mapping[str, Any]) -> str:
    """`summary.json` text: strict JSON (no NaN), keys sorted, two-space indent, final newline."""
    return (
        json.dumps(
            to_json_ready(summary), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False
        )
        + "\n"
    )
