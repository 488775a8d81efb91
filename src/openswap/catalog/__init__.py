"""Reads catalog and scenario files (YAML) into validated domain objects; ships built-ins.

Public API: `load_catalog`, `load_catalog_with_builtin`, `load_catalog_texts`,
`builtin_catalog`, `builtin_texts` and `CatalogText`. Bad input raises
`openswap.domain.errors.CatalogError` carrying every problem with file, line and field.
"""

from openswap.catalog.loader import (
    CatalogText,
    builtin_catalog,
    builtin_texts,
    load_catalog,
    load_catalog_texts,
    load_catalog_with_builtin,
)

__all__ = [
    "CatalogText",
    "builtin_catalog",
    "builtin_texts",
    "load_catalog",
    "load_catalog_texts",
    "load_catalog_with_builtin",
]
