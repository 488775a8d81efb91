"""Request bodies (strict pydantic models that name the bad field) and the page envelope.

Responses are the services' own result dataclasses; pydantic derives their schemas.
Identifiers are 1-64 printable ASCII characters without spaces or slashes; free text has no
control characters; numbers are bounded, so nothing reaches the database it cannot store.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from openswap.api.deps import PageParams
from openswap.services.model import OrgRole, Role

T = TypeVar("T")

# Lengths match the storage columns (ids 64, names and reasons 400, directions 32).
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:~-]{0,63}$"
Ident = Annotated[str, Field(pattern=ID_PATTERN, min_length=1, max_length=64)]
Text = Annotated[str, Field(max_length=400, pattern=r"^[^\x00-\x1f\x7f]*$")]
Reason = Annotated[str, Field(min_length=1, max_length=400, pattern=r"^[^\x00-\x1f\x7f]*$")]
DirectionLabel = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[^\x00-\x1f\x7f]*$")]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]
EnergyKwh = Annotated[float, Field(ge=0.0, le=10_000.0)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
SmallInt = Annotated[int, Field(ge=1, le=10_000)]


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range") from None


UtcTime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class Page(BaseModel, Generic[T]):
    """One page of a list: `items`, how many there are in all, and where the next page starts
    (`next_offset`, null on the last page)."""

    items: list[T]
    total: int
    limit: int
    offset: int
    next_offset: int | None


def paginate(items: tuple[T, ...] | list[T], page: PageParams) -> dict[str, Any]:
    """The page envelope for `items` (already filtered and ordered)."""
    end = page.offset + page.limit
    return {
        "items": list(items[page.offset : end]),
        "total": len(items),
        "limit": page.limit,
        "offset": page.offset,
        "next_offset": end if end < len(items) else None,
    }


# --- auth ------------------------------------------------------------------------------------


class TokenResponse(BaseModel):
    """RFC 6749 section 5.1."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: Role


class ApiClientBody(Body):
    role: Role
    org_id: Ident | None = None
    station_id: Ident | None = None
    label: Text = ""


class UserBody(Body):
    username: Ident
    password: Annotated[str, Field(min_length=12, max_length=200)]
    role: Role
    org_id: Ident | None = None


# --- registry --------------------------------------------------------------------------------


class OrganisationBody(Body):
    id: Ident
    name: Name
    roles: Annotated[list[OrgRole], Field(min_length=1, max_length=7)]


class StationBody(Body):
    id: Ident
    name: Name
    design_id: Ident
    operator_org_id: Ident
    stocked_models: Annotated[list[Ident], Field(max_length=50)] = []
    adapter_ids: Annotated[list[Ident], Field(max_length=50)] = []
    corridor: Ident | None = None
    km: Annotated[float, Field(ge=0.0, le=100_000.0)] | None = None
    direction: DirectionLabel | None = None
    utc_offset_min: Annotated[int, Field(ge=-720, le=840)] = 480
    tariff: Ident = "fujian-tou-2024"
    service_fee_cny_per_kwh: Annotated[float, Field(ge=0.0, le=100.0)] = 0.30
    battery_fee_cny_per_kwh: Annotated[float, Field(ge=0.0, le=100.0)] = 0.25


class VehicleBody(Body):
    id: Ident
    model_id: Ident
    fleet_org_id: Ident
    pack_count: Annotated[int, Field(ge=1, le=16)]
    adapter_ids: Annotated[list[Ident], Field(max_length=20)] = []


class PackBody(Body):
    serial: Ident
    model_id: Ident
    owner_org_id: Ident
    soc: Fraction = 1.0
    soh: Fraction = 1.0
    cycle_count: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    insulation_resistance_ohm: Annotated[float, Field(ge=0.0, le=1e12)] | None = None
    max_cell_temp_spread_c: Annotated[float, Field(ge=0.0, lt=100.0)] = 0.0
    station_id: Ident | None = None
    slot_no: SmallInt | None = None
    warehouse_id: Ident | None = None
    vehicle_id: Ident | None = None
    position_no: Annotated[int, Field(ge=1, le=16)] | None = None


class CompatibilityBody(Body):
    vehicle_id: Ident
    pack_serial: Ident
    station_id: Ident
    need_kwh: EnergyKwh | None = None


# --- reservations and swaps ------------------------------------------------------------------


class ReservationBody(Body):
    vehicle_id: Ident
    station_id: Ident
    arrive_at: UtcTime = Field(description="expected arrival, RFC 3339 with a time zone")
    need_kwh: EnergyKwh | None = Field(
        default=None,
        description="energy the whole vehicle needs for its next leg; null: fully charged packs",
    )


class CancelBody(Body):
    reason: Text = "cancelled by the fleet"


class StartSwapBody(Body):
    station_id: Ident
    bay_no: SmallInt
    vehicle_id: Ident
    reservation_id: Ident | None = Field(
        default=None, description="null: the vehicle's open reservation here, else a walk-in"
    )
    need_kwh: EnergyKwh | None = None


class ReadingBody(Body):
    serial: Ident
    soc: Fraction


class CompleteSwapBody(Body):
    readings: Annotated[list[ReadingBody], Field(max_length=16)] = Field(
        default=[], description="SoC each pack's BMS reported at the robot"
    )


class AbortSwapBody(Body):
    reason: Reason


# --- custody ---------------------------------------------------------------------------------


class QuarantineBody(Body):
    reason: Reason


class ReleaseBody(Body):
    note: Text = "released after inspection"


class RetireBody(Body):
    reason: Reason


class MoveBody(Body):
    to_station_id: Ident | None = None
    to_slot_no: SmallInt | None = None
    to_warehouse_id: Ident | None = None


IdPath = Annotated[
    str, Path(pattern=ID_PATTERN, min_length=1, max_length=64, description="an identifier")
]
