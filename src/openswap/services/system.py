"""System implementations of the `Clock` and `IdGenerator` ports (tests inject their own)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


class SystemClock:
    """The wall clock, timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class UuidIds:
    """Random (UUID 4) ids: `prefix` followed by 32 hex digits."""

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{uuid.uuid4().hex}"
