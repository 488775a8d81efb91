"""Truck energy use: road-load physics per corridor segment, integrated over a grade profile.

A segment is driven at constant speed; the battery supplies traction (through the drive train)
and auxiliaries, and takes back a share of the surplus wheel energy on descents. Defaults are the
physics estimate of domain facts section 2.2; `build_coastal_rolling_profile` makes a seeded,
net-zero grade profile of the kind section 8 assumes for the Ningde–Xiamen line.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from openswap.domain.errors import InputError, Problem

# --- physical constants ---------------------------------------------------------------------
STANDARD_GRAVITY_M_PER_S2 = 9.80665  # CGPM 1901 conventional value (BIPM SI brochure) [primary]
J_PER_KWH = 3.6e6

# --- model defaults: domain facts section 2.2 "physics default" (all [estimate]) -------------
ROLLING_RESISTANCE_COEFF = 0.0055  # domain facts 2.2 [estimate]
DRAG_AREA_M2 = 5.8  # CdA, cab-over tractor with box/container trailer; domain facts 2.2 [estimate]
AIR_DENSITY_KG_PER_M3 = 1.2  # sea-level air, coastal corridor; domain facts 2.2 [estimate]
DRIVE_EFFICIENCY = 0.88  # battery to wheel; domain facts 2.2 [estimate]
REGEN_SHARE = 0.60  # of surplus wheel energy on descents/braking; domain facts 2.2 [estimate]
AUX_POWER_KW = 4.0  # air compressor, steering pump, electronics; domain facts 2.2 [estimate]
# Fujian is subtropical: a summer air-conditioning penalty of about 3-6 % (domain facts 2.2
# [estimate]; ICCT 2021 EU BET tractor analysis gives <= 9 % at -7/35 C with heat pump [primary]).
SUMMER_AC_PENALTY_FRAC = 0.05  # domain facts section 8, truck.summer_ac_penalty [estimate]

# --- masses and speeds -------------------------------------------------------------------------
EMPTY_COMBINATION_MASS_KG = 18_000.0  # tractor + trailer, empty; domain facts section 8 [estimate]
# 6-axle tractor-semitrailer limit: GB 1589-2016 (cited by GB/T 40032.2-2025) [doc]
MAX_GROSS_COMBINATION_MASS_KG = 49_000.0
CRUISE_SPEED_KMH = 80.0  # domain facts section 8, route.cruise_speed_kmh [estimate]

# Sanity bound on inputs, not a road-design limit: expressway grades stay well below this
# (mountain expressways reach about 5-6 %). Beyond 15 % the small-angle form used here
# (sin ~ tan ~ grade, cos ~ 1) would also start to drift by more than 1 %.  [estimate]
MAX_ABS_GRADE_FRAC = 0.15


@dataclass(frozen=True, slots=True)
class EnergyModelParams:
    """Road-load parameters of one tractor-trailer combination.

    `regen_share` is the fraction of the surplus wheel energy (when gravity pushes harder than
    rolling and air resistance) that reaches the battery; the rest goes to friction brakes.
    `hvac_penalty_frac` scales the energy drawn from the battery (traction + auxiliaries) for
    cabin heating or cooling: 0 for the mild-weather values of domain facts 2.2, or
    `SUMMER_AC_PENALTY_FRAC` for a Fujian summer (see `build_summer_params`).
    """

    rolling_resistance_coeff: float = ROLLING_RESISTANCE_COEFF
    drag_area_m2: float = DRAG_AREA_M2
    air_density_kg_per_m3: float = AIR_DENSITY_KG_PER_M3
    drive_efficiency: float = DRIVE_EFFICIENCY
    regen_share: float = REGEN_SHARE
    aux_power_kw: float = AUX_POWER_KW
    hvac_penalty_frac: float = 0.0

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        for name in ("rolling_resistance_coeff", "drag_area_m2", "air_density_kg_per_m3"):
            _require_non_negative(problems, name, getattr(self, name))
        _require_non_negative(problems, "aux_power_kw", self.aux_power_kw)
        _require_non_negative(problems, "hvac_penalty_frac", self.hvac_penalty_frac)
        if not (math.isfinite(self.drive_efficiency) and 0.0 < self.drive_efficiency <= 1.0):
            problems.append(
                Problem(
                    f"must be in (0, 1], got {self.drive_efficiency!r}", field="drive_efficiency"
                )
            )
        if not (math.isfinite(self.regen_share) and 0.0 <= self.regen_share <= 1.0):
            problems.append(
                Problem(f"must be in [0, 1], got {self.regen_share!r}", field="regen_share")
            )
        if problems:
            raise InputError(problems)


def build_summer_params(params: EnergyModelParams | None = None) -> EnergyModelParams:
    """`params` (default: the section 2.2 defaults) with the summer air-conditioning penalty."""
    return replace(params or EnergyModelParams(), hvac_penalty_frac=SUMMER_AC_PENALTY_FRAC)


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of road driven at constant speed on a constant grade.

    `grade_frac` is rise over run (0.01 = 1 % uphill in the direction of travel, negative
    downhill), within +-`MAX_ABS_GRADE_FRAC`. `length_km` and `speed_kmh` are positive.
    """

    length_km: float
    grade_frac: float
    speed_kmh: float

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if not (math.isfinite(self.length_km) and self.length_km > 0.0):
            problems.append(Problem(f"must be > 0, got {self.length_km!r}", field="length_km"))
        if not (math.isfinite(self.speed_kmh) and self.speed_kmh > 0.0):
            problems.append(Problem(f"must be > 0, got {self.speed_kmh!r}", field="speed_kmh"))
        if not (math.isfinite(self.grade_frac) and abs(self.grade_frac) <= MAX_ABS_GRADE_FRAC):
            problems.append(
                Problem(
                    f"must be within +-{MAX_ABS_GRADE_FRAC:g}, got {self.grade_frac!r}",
                    field="grade_frac",
                )
            )
        if problems:
            raise InputError(problems)

    @property
    def elevation_change_m(self) -> float:
        return self.length_km * 1000.0 * self.grade_frac


@dataclass(frozen=True, slots=True)
class SegmentEnergy:
    """Battery energy over one segment: drawn (traction, auxiliaries, HVAC) and regenerated."""

    drawn_kwh: float
    regenerated_kwh: float

    @property
    def net_kwh(self) -> float:
        """Drawn minus regenerated; negative on a descent steep enough to charge the battery."""
        return self.drawn_kwh - self.regenerated_kwh


@dataclass(frozen=True, slots=True)
class CorridorEnergy:
    """Battery energy over a whole grade profile."""

    distance_km: float
    drawn_kwh: float
    regenerated_kwh: float

    @property
    def energy_kwh(self) -> float:
        """Net battery energy: drawn minus regenerated."""
        return self.drawn_kwh - self.regenerated_kwh

    @property
    def energy_kwh_per_km(self) -> float:
        return self.energy_kwh / self.distance_km


def combination_mass_kg(
    payload_kg: float, empty_mass_kg: float = EMPTY_COMBINATION_MASS_KG
) -> float:
    """Gross combination mass in kg: tractor + trailer empty mass plus payload.

    Both inputs are kg, `payload_kg` >= 0 and `empty_mass_kg` > 0. A result above
    `MAX_GROSS_COMBINATION_MASS_KG` is returned as is (overloading is physics, not an input
    error); callers that enforce GB 1589-2016 compare against that constant.
    """
    problems: list[Problem] = []
    _require_non_negative(problems, "payload_kg", payload_kg)
    if not (math.isfinite(empty_mass_kg) and empty_mass_kg > 0.0):
        problems.append(Problem(f"must be > 0, got {empty_mass_kg!r}", field="empty_mass_kg"))
    if problems:
        raise InputError(problems)
    return empty_mass_kg + payload_kg


def segment_flows(params: EnergyModelParams, mass_kg: float, segment: Segment) -> SegmentEnergy:
    """Battery energy drawn and regenerated over one segment, in kWh.

    Wheel force F = m g (C_rr + grade) + 1/2 rho CdA v^2 (small-angle form). When F >= 0 the
    battery supplies F / eta_drive per metre; when F < 0 (gravity exceeds the resistances) it
    receives `regen_share` x |F| per metre. Auxiliaries draw `aux_power_kw` for the driving
    time. The HVAC penalty scales the drawn energy only. `mass_kg` must be > 0.
    """
    _check_mass(mass_kg)
    speed_m_per_s = segment.speed_kmh / 3.6
    distance_m = segment.length_km * 1000.0
    grade_and_rolling_n = (
        mass_kg * STANDARD_GRAVITY_M_PER_S2 * (params.rolling_resistance_coeff + segment.grade_frac)
    )
    aero_n = 0.5 * params.air_density_kg_per_m3 * params.drag_area_m2 * speed_m_per_s**2
    wheel_j = (grade_and_rolling_n + aero_n) * distance_m
    if wheel_j >= 0.0:
        traction_j = wheel_j / params.drive_efficiency
        regenerated_j = 0.0
    else:
        traction_j = 0.0
        regenerated_j = -wheel_j * params.regen_share
    aux_j = params.aux_power_kw * 1000.0 * distance_m / speed_m_per_s
    drawn_j = (traction_j + aux_j) * (1.0 + params.hvac_penalty_frac)
    return SegmentEnergy(drawn_kwh=drawn_j / J_PER_KWH, regenerated_kwh=regenerated_j / J_PER_KWH)


def segment_energy_kwh(params: EnergyModelParams, mass_kg: float, segment: Segment) -> float:
    """Net battery energy in kWh to drive `segment` at gross mass `mass_kg` (> 0).

    Negative when regeneration on a steep descent exceeds the auxiliary load.
    """
    return segment_flows(params, mass_kg, segment).net_kwh


def corridor_energy(
    params: EnergyModelParams, mass_kg: float, profile: Sequence[Segment]
) -> CorridorEnergy:
    """Battery energy to drive a whole grade profile (segments in driving order) at `mass_kg`.

    `profile` must hold at least one segment; `mass_kg` must be > 0.
    """
    if not profile:
        raise InputError([Problem("needs at least one segment", field="profile")])
    drawn_kwh = 0.0
    regenerated_kwh = 0.0
    distance_km = 0.0
    for segment in profile:
        flows = segment_flows(params, mass_kg, segment)
        drawn_kwh += flows.drawn_kwh
        regenerated_kwh += flows.regenerated_kwh
        distance_km += segment.length_km
    return CorridorEnergy(distance_km, drawn_kwh, regenerated_kwh)


def net_elevation_change_m(profile: Sequence[Segment]) -> float:
    """End elevation minus start elevation of a profile, in metres."""
    return math.fsum(s.elevation_change_m for s in profile)


def to_opposite_direction(profile: Sequence[Segment]) -> tuple[Segment, ...]:
    """The same road driven the other way: segments reversed, every grade negated."""
    return tuple(Segment(s.length_km, -s.grade_frac, s.speed_kmh) for s in reversed(profile))


# Shape of the "coastal rolling" profile (domain facts section 8: "mostly <2% grades, short
# 3-4% climbs"). Every number below is our own [estimate] of what such a road looks like.
_LEVEL_SHARE = 0.25  # chance a feature is a level stretch
_STEEP_SHARE = 0.12  # chance a feature is a hill with a short steep climb
_LEVEL_LENGTH_KM = (0.5, 4.0)
_ROLLING_GRADE_FRAC = (0.004, 0.019)
_ROLLING_LENGTH_KM = (0.5, 3.0)
_STEEP_GRADE_FRAC = (0.03, 0.04)
_STEEP_LENGTH_KM = (0.3, 1.2)
_COUNTER_GRADE_RATIO = (0.6, 1.6)  # grade of the other flank relative to the first one


def build_coastal_rolling_profile(
    length_km: float, rng: random.Random, speed_kmh: float = CRUISE_SPEED_KMH
) -> tuple[Segment, ...]:
    """A seeded "coastal rolling" grade profile of exactly `length_km` (> 0) at `speed_kmh`.

    The road is a chain of level stretches and hills or valleys; most grades are below 2 %, a
    few hills have a short 3-4 % climb. Each hill comes back down to where it started, so the
    net elevation change is zero (to rounding). The same `rng` state gives the same profile.
    """
    problems: list[Problem] = []
    if not (math.isfinite(length_km) and length_km > 0.0):
        problems.append(Problem(f"must be > 0, got {length_km!r}", field="length_km"))
    if not (math.isfinite(speed_kmh) and speed_kmh > 0.0):
        problems.append(Problem(f"must be > 0, got {speed_kmh!r}", field="speed_kmh"))
    if problems:
        raise InputError(problems)

    segments: list[Segment] = []
    remaining_km = length_km
    while remaining_km > 0.0:
        draw = rng.random()
        if draw < _LEVEL_SHARE:
            feature = [(rng.uniform(*_LEVEL_LENGTH_KM), 0.0)]
        else:
            steep = draw < _LEVEL_SHARE + _STEEP_SHARE
            grade = rng.uniform(*(_STEEP_GRADE_FRAC if steep else _ROLLING_GRADE_FRAC))
            first_km = rng.uniform(*(_STEEP_LENGTH_KM if steep else _ROLLING_LENGTH_KM))
            counter_grade = min(
                max(grade * rng.uniform(*_COUNTER_GRADE_RATIO), _ROLLING_GRADE_FRAC[0]),
                _ROLLING_GRADE_FRAC[1],
            )
            # Same rise and fall, so the feature ends at the elevation it started from.
            counter_km = first_km * grade / counter_grade
            climb, descent = (first_km, grade), (counter_km, -counter_grade)
            feature = [climb, descent] if rng.random() < 0.5 else [descent, climb]
        feature_km = sum(part_km for part_km, _ in feature)
        if feature_km >= remaining_km:
            # The corridor ends inside this feature: finish on the level instead.
            feature = [(remaining_km, 0.0)]
            feature_km = remaining_km
        segments.extend(Segment(part_km, g, speed_kmh) for part_km, g in feature)
        remaining_km -= feature_km
    return tuple(segments)


def _check_mass(mass_kg: float) -> None:
    if not (math.isfinite(mass_kg) and mass_kg > 0.0):
        raise InputError([Problem(f"must be > 0, got {mass_kg!r}", field="mass_kg")])


def _require_non_negative(problems: list[Problem], name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0.0):
        problems.append(Problem(f"must be >= 0, got {value!r}", field=name))
