"""CO2 of a battery-swap truck against a diesel truck over a distance, with the emission
factors used carried in every result (grid average, or green electricity at zero)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from openswap.domain.errors import InputError, Problem
from openswap.domain.specs import Source
from openswap.economics.fleet import DIESEL_CONSUMPTION_L_PER_100KM

# Rack-charger efficiency, grid to pack: domain facts section 8 station_defaults [estimate].
CHARGER_EFFICIENCY = 0.95


@dataclass(frozen=True, slots=True)
class EmissionFactor:
    """kg CO2 (or CO2e) per unit of fuel or electricity; `unit` is "L" or "kWh"."""

    name: str
    co2_kg_per_unit: float
    unit: str
    source: Source

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if not (math.isfinite(self.co2_kg_per_unit) and self.co2_kg_per_unit >= 0.0):
            problems.append(
                Problem(f"must be >= 0, got {self.co2_kg_per_unit!r}", field="co2_kg_per_unit")
            )
        if self.unit not in ("L", "kWh"):
            problems.append(Problem(f"must be 'L' or 'kWh', got {self.unit!r}", field="unit"))
        if problems:
            raise InputError(problems)


DIESEL_DEFRA_2024 = EmissionFactor(
    name="diesel, UK DEFRA 2024 (kg CO2e/L)",
    co2_kg_per_unit=2.66,
    unit="L",
    source=Source(
        "UK DEFRA 2024 conversion factors via https://clidapt.com/en/emission-factors/diesel "
        "(domain facts 5.3)",
        confidence="secondary",
    ),
)
GRID_CHINA_2022 = EmissionFactor(
    name="China national grid average 2022, MEE/NBS (kg CO2/kWh)",
    co2_kg_per_unit=0.5366,
    unit="kWh",
    source=Source(
        "生态环境部、国家统计局《2022年电力二氧化碳排放因子》 (published 26 Dec 2024) via "
        "https://dhirubhai.net/pulse/grid-emission-factor-key-progress-chinas-climate-4nklc "
        "(domain facts 5.3); Fujian's provincial value not retrieved",
        confidence="secondary",
    ),
)
GREEN_ELECTRICITY = EmissionFactor(
    name="green electricity, zero operational CO2 (kg CO2/kWh)",
    co2_kg_per_unit=0.0,
    unit="kWh",
    source=Source(
        "convention: renewable supply (green-power trading or certificates) counted at zero "
        "operational emissions; upstream life-cycle emissions excluded",
        confidence="estimate",
    ),
)


@dataclass(frozen=True, slots=True)
class Co2Comparison:
    """CO2 of the same distance driven electric and diesel, and the factors that produced it."""

    distance_km: float
    grid_energy_kwh: float
    diesel_l: float
    electric_co2_kg: float
    diesel_co2_kg: float
    grid_factor: EmissionFactor
    diesel_factor: EmissionFactor

    @property
    def avoided_co2_kg(self) -> float:
        return self.diesel_co2_kg - self.electric_co2_kg

    @property
    def avoided_frac(self) -> float:
        """Avoided CO2 as a fraction of the diesel CO2 (NaN when diesel emits nothing)."""
        if self.diesel_co2_kg == 0.0:
            return math.nan
        return self.avoided_co2_kg / self.diesel_co2_kg


def compare_co2(
    distance_km: float,
    energy_kwh_per_km: float,
    grid_factor: EmissionFactor = GRID_CHINA_2022,
    diesel_factor: EmissionFactor = DIESEL_DEFRA_2024,
    diesel_l_per_100km: float = DIESEL_CONSUMPTION_L_PER_100KM,
    charger_efficiency: float = CHARGER_EFFICIENCY,
) -> Co2Comparison:
    """CO2 in kg of driving `distance_km` (>= 0) electric and diesel.

    `energy_kwh_per_km` (>= 0) is battery energy; the grid supplies it divided by
    `charger_efficiency` (0 < eff <= 1). Pass `GREEN_ELECTRICITY` as `grid_factor` for the
    green-power variant. `grid_factor` must be per kWh and `diesel_factor` per L.
    """
    problems: list[Problem] = []
    for name, value in (
        ("distance_km", distance_km),
        ("energy_kwh_per_km", energy_kwh_per_km),
        ("diesel_l_per_100km", diesel_l_per_100km),
    ):
        if not (math.isfinite(value) and value >= 0.0):
            problems.append(Problem(f"must be >= 0, got {value!r}", field=name))
    if not (math.isfinite(charger_efficiency) and 0.0 < charger_efficiency <= 1.0):
        problems.append(
            Problem(f"must be in (0, 1], got {charger_efficiency!r}", field="charger_efficiency")
        )
    if grid_factor.unit != "kWh":
        problems.append(
            Problem(f"must be per kWh, got per {grid_factor.unit}", field="grid_factor")
        )
    if diesel_factor.unit != "L":
        problems.append(
            Problem(f"must be per L, got per {diesel_factor.unit}", field="diesel_factor")
        )
    if problems:
        raise InputError(problems)
    grid_energy_kwh = distance_km * energy_kwh_per_km / charger_efficiency
    diesel_l = distance_km * diesel_l_per_100km / 100.0
    return Co2Comparison(
        distance_km=distance_km,
        grid_energy_kwh=grid_energy_kwh,
        diesel_l=diesel_l,
        electric_co2_kg=grid_energy_kwh * grid_factor.co2_kg_per_unit,
        diesel_co2_kg=diesel_l * diesel_factor.co2_kg_per_unit,
        grid_factor=grid_factor,
        diesel_factor=diesel_factor,
    )
