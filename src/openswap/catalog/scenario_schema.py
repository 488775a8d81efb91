"""Pydantic models of scenario files: the YAML a network scenario is written in.

Same conventions as catalog files: strict types, unknown fields refused (with a hint), units in
every field name (`_min` minutes, `_h` hours, `_km`, `_kw`, ...). Durations are written in the
unit people think in and converted to seconds by `openswap.catalog.scenario`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from openswap.catalog.schema import (
    ApparentPowerKva,
    Count,
    Fraction,
    Ident,
    MassKg,
    NonNegativeKw,
    PowerFactor,
    PowerKw,
    SourceEntry,
    StrictModel,
    Text,
    bounded,
)

HOURS_PER_DAY = 24

LengthKm = Annotated[float, bounded(0, 5_000, unit="km")]
KmMarker = Annotated[float, bounded(0, 5_000, unit="km", lo_open=False)]
SpeedKmh = Annotated[
    float, bounded(0, 120, unit="km/h", why="cars' expressway limit; trucks are limited to 100")
]
GradeFrac = Annotated[float, bounded(-0.15, 0.15, lo_open=False, why="expressway grades")]
Minutes = Annotated[float, bounded(0, 1_440, unit="min", lo_open=False)]
PositiveMinutes = Annotated[float, bounded(0, 1_440, unit="min")]
Hours = Annotated[float, bounded(0, 24, unit="h")]
Days = Annotated[float, bounded(0, 3_660, unit="days")]
NonNegativeDays = Annotated[float, bounded(0, 3_660, unit="days", lo_open=False)]
Cny = Annotated[float, bounded(0, 1e12, unit="CNY", lo_open=False)]
PricePerKwh = Annotated[float, bounded(0, 100, unit="CNY/kWh", lo_open=False)]
Efficiency = Annotated[float, bounded(0, 1)]
NonNegativeCount = Annotated[int, Field(ge=0)]
NonNegative = Annotated[float, bounded(0, lo_open=False)]
TripsPerDay = Annotated[float, bounded(0, 200, unit="trips/day")]


def _check_place(value: Any) -> str | float:
    """A waypoint name or a km marker (a number); resolved against the corridor later."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PydanticCustomError(
            "bad_place",
            "must be a waypoint name or a km marker, got {value}",
            {"value": repr(value)},
        )
    if isinstance(value, str):
        return value
    if not (math.isfinite(value) and value >= 0):
        raise PydanticCustomError(
            "bad_place", "km marker must be >= 0, got {value}", {"value": value}
        )
    return float(value)


def _check_profile(value: Any) -> str | tuple[float, ...]:
    """A named departure profile or 24 non-negative hourly weights (not all zero)."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list) or len(value) != HOURS_PER_DAY:
        raise PydanticCustomError(
            "bad_profile",
            "must be a profile name or a list of 24 hourly weights, got {value}",
            {"value": repr(value)[:60]},
        )
    for weight in value:
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise PydanticCustomError("bad_profile", "weights must be numbers", {})
        if not (math.isfinite(weight) and weight >= 0):
            raise PydanticCustomError("bad_profile", "weights must be >= 0", {})
    if not sum(value) > 0:
        raise PydanticCustomError("bad_profile", "at least one weight must be > 0", {})
    return tuple(float(w) for w in value)


Place = Annotated[Any, AfterValidator(_check_place)]
DepartureProfile = Annotated[Any, AfterValidator(_check_profile)]


class SegmentEntry(StrictModel):
    length_km: LengthKm
    grade_frac: GradeFrac
    speed_kmh: SpeedKmh | None = None  # default: the corridor's cruise speed


class CorridorEntry(StrictModel):
    id: Ident
    name: Text
    length_km: LengthKm
    waypoints: dict[str, KmMarker] = Field(default_factory=dict)
    grade_profile: Literal["flat", "coastal_rolling", "explicit"] = "flat"
    grade_seed: int = 0  # seeds the coastal_rolling profile
    segments: list[SegmentEntry] | None = None  # for grade_profile: explicit
    cruise_speed_kmh: SpeedKmh = 80.0  # domain facts section 8 [estimate]
    forward_label: Ident = "forward"
    backward_label: Ident = "backward"


class TariffPeriodEntry(StrictModel):
    name: Text
    price_cny_per_kwh: PricePerKwh
    hours: list[Annotated[int, Field(ge=0, le=23)]]


class TariffEntry(StrictModel):
    id: Ident
    periods: Annotated[list[TariffPeriodEntry], Field(min_length=1)]
    demand_charge_cny_per_kw_month: NonNegative | None = None
    source: SourceEntry | None = None


class StationSettings(StrictModel):
    """Fields a station may set, each falling back to `station_defaults`, then to the design."""

    grid_kva: ApparentPowerKva | None = None
    power_factor: PowerFactor | None = None
    aux_load_kw: NonNegativeKw | None = None
    slots: Count | None = None
    bays: Count | None = None
    charger_kw_per_slot: PowerKw | None = None
    charger_efficiency: Efficiency | None = None
    capex_cny: Cny | None = None
    tariff: Ident | None = None


class StationEntry(StationSettings):
    id: Ident
    name: Text
    corridor: Ident
    km: KmMarker
    direction: Ident = "both"  # forward | backward | both, or the corridor's labels
    design: Ident
    stock: dict[Ident, NonNegativeCount] = Field(default_factory=dict)
    adapters: list[Ident] = Field(default_factory=list)
    sources: list[SourceEntry] = Field(default_factory=list)


class FleetEntry(StrictModel):
    id: Ident
    vehicle_model: Ident
    count: Count
    pack_model: Ident
    packs_per_vehicle: Annotated[int, Field(ge=1, le=3)]
    corridor: Ident
    origin: Place
    destination: Place
    trips_per_day: TripsPerDay
    departure_profile: DepartureProfile = "uniform"
    loaded_share: Fraction = 0.7  # domain facts section 8 [estimate]
    payload_kg: Annotated[float, bounded(0, 100_000, unit="kg", lo_open=False)] = 31_000.0
    empty_mass_kg: MassKg = 18_000.0  # domain facts section 8 [estimate]
    cruise_speed_kmh: SpeedKmh | None = None  # default: the corridor's cruise speed
    informed_share: Fraction = 1.0
    initial_soc: Fraction = 0.95
    turnaround_min: Minutes = 60.0
    depot_charge_kw: NonNegativeKw = 0.0  # plug-in charging at either end during the turnaround
    adapters: list[Ident] = Field(default_factory=list)
    return_trips: bool = True


class EnergyEntry(StrictModel):
    """`EnergyModelParams` fields; `summer_ac_penalty` applies the Fujian summer A/C penalty."""

    rolling_resistance_coeff: NonNegative | None = None
    drag_area_m2: NonNegative | None = None
    air_density_kg_per_m3: NonNegative | None = None
    drive_efficiency: Efficiency | None = None
    regen_share: Fraction | None = None
    aux_power_kw: NonNegativeKw | None = None
    hvac_penalty_frac: Annotated[float, bounded(0, 1, lo_open=False)] | None = None
    summer_ac_penalty: bool = False


class TriangularMin(StrictModel):
    min: PositiveMinutes
    mode: PositiveMinutes
    max: PositiveMinutes


class UniformMin(StrictModel):
    min: Minutes
    max: Minutes


class TimingEntry(StrictModel):
    swap_service_min: TriangularMin = TriangularMin.model_validate({"min": 3, "mode": 5, "max": 7})
    entry_exit_min: UniformMin = UniformMin.model_validate({"min": 2, "max": 5})
    patience_min: PositiveMinutes = 60.0
    exponential_service: bool = False


class DriverEntry(StrictModel):
    max_continuous_drive_h: Hours = 4.0
    min_rest_min: Minutes = 20.0


class EconomicsEntry(StrictModel):
    service_price_cny_per_kwh: PricePerKwh | None = None
    pack_price_cny_per_kwh: Annotated[float, bounded(0, 100_000, unit="CNY/kWh")] | None = None
    diesel_price_cny_per_l: Annotated[float, bounded(0, 1_000, unit="CNY/L")] | None = None
    diesel_l_per_100km: Annotated[float, bounded(0, 1_000, unit="L/100km")] | None = None
    diesel_co2_kg_per_l: Annotated[float, bounded(0, 100, unit="kg/L")] | None = None
    grid_co2_kg_per_kwh: Annotated[float, bounded(0, 10, unit="kg/kWh", lo_open=False)] | None = (
        None
    )
    discount_rate: Annotated[float, bounded(-1, 1)] | None = None
    lifetime_years: Annotated[float, bounded(0, 100, unit="years")] | None = None
    opex_frac_of_capex_per_year: Annotated[float, bounded(0, 1, lo_open=False)] | None = None


class RunEntry(StrictModel):
    days: Days
    warmup_days: NonNegativeDays = 0.0
    seed: Annotated[int, Field(ge=0)] = 0
    replications: Count = 1


class ScenarioFile(StrictModel):
    """One scenario file. Lists keep their order: `stations[i]` is the i-th station of the run."""

    id: Ident
    name: Text
    description: str = ""
    catalog: list[str] = Field(default_factory=list)  # extra catalog files, relative paths
    sources: list[SourceEntry] = Field(default_factory=list)
    # Items of these lists are validated one by one (CorridorEntry, TariffEntry, StationEntry,
    # FleetEntry), so that one bad entry never hides the problems of the others.
    corridors: list[Any]
    tariffs: list[Any] = Field(default_factory=list)
    station_defaults: StationSettings = StationSettings()
    stations: list[Any] = Field(default_factory=list)
    fleets: list[Any]
    energy: EnergyEntry = EnergyEntry()
    timing: TimingEntry = TimingEntry()
    driver: DriverEntry = DriverEntry()
    economics: EconomicsEntry = EconomicsEntry()
    run: RunEntry
    reserve_frac: Annotated[float, bounded(0, 1, lo_open=False, hi_open=True)] = 0.10
    charged_soc: Annotated[float, bounded(0, 1)] = 0.95
