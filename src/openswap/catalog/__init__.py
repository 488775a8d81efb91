"""Reads catalog and scenario files (YAML) into validated domain objects; ships built-ins.

Public API: `load_catalog`, `load_catalog_with_builtin`, `load_catalog_texts`,
`builtin_catalog`, `builtin_texts` and `CatalogText`; scenarios: `load_scenario`,
`load_scenario_text`, `builtin_scenario`, `builtin_scenario_names` (`catalog.scenario`) and
`generate_scenario` (`catalog.generate`). Bad input raises `CatalogError` or `ScenarioError`
(`openswap.domain.errors`) carrying every problem with file, line and field.
"""

from openswap.catalog.loader import (
    CatalogText,
    builtin_catalog,
    builtin_texts,
    load_catalog,
    load_catalog_texts,
    load_catalog_with_builtin,
)
from openswap.catalog.scenario import (
    builtin_scenario,
    builtin_scenario_names,
    load_scenario,
    load_scenario_text,
)

__all__ = [
    "CatalogText",
    "builtin_catalog",
    "builtin_scenario",
    "builtin_scenario_names",
    "builtin_texts",
    "load_catalog",
    "load_catalog_texts",
    "load_catalog_with_builtin",
    "load_scenario",
    "load_scenario_text",
]
