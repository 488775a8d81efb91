"""A network scenario: corridors, station sites, fleets and their trips, and the run settings.

Built and validated by `openswap.catalog.scenario` from YAML; run by `openswap.sim`. Positions
are km markers along a corridor; `forward` trips run towards increasing km.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from openswap.domain.catalog import Catalog
from openswap.domain.energy import EnergyModelParams, Segment
from openswap.domain.specs import Adapter, PackModel, Source, StationDesign, VehicleModel
from openswap.domain.tariff import TimeOfUseTariff


class Direction(StrEnum):
    FORWARD = "forward"  # towards increasing km
    BACKWARD = "backward"


@dataclass(frozen=True, slots=True)
class Corridor:
    """A road with km markers and a grade profile (segments in the forward direction)."""

    id: str
    name: str
    length_km: float
    waypoints: tuple[tuple[str, float], ...]  # (name, km)
    profile: tuple[Segment, ...]
    forward_label: str = "forward"
    backward_label: str = "backward"


@dataclass(frozen=True, slots=True)
class StationSite:
    """A station placed on a corridor, serving one carriageway (or both)."""

    id: str
    name: str
    corridor: str
    km: float
    directions: frozenset[Direction]
    design: StationDesign
    stock: tuple[tuple[PackModel, int], ...]  # packs on the rack at the start, by model
    slots: int  # rack slots with a charger
    bays: int  # swap lanes working in parallel
    charger_power_kw: float  # per slot
    charger_efficiency: float  # grid (AC) to pack (DC)
    tariff: TimeOfUseTariff
    adapters: tuple[Adapter, ...] = ()
    capex_cny: float = 10_000_000.0
    sources: tuple[Source, ...] = ()

    @property
    def pack_count(self) -> int:
        return sum(n for _, n in self.stock)


@dataclass(frozen=True, slots=True)
class SwapTiming:
    """Times at a station, in seconds: the robot's swap, getting in and out, and patience."""

    service_min_s: float = 180.0  # CATL ~5 min; report 3-7 min (domain facts section 8)
    service_mode_s: float = 300.0
    service_max_s: float = 420.0
    overhead_min_s: float = 120.0  # entry and exit, uniform 2-5 min [estimate] (enerax)
    overhead_max_s: float = 300.0
    patience_s: float = 3600.0  # longest a driver waits for a charged pack before leaving
    exponential_service: bool = False  # M/M/c validation runs


@dataclass(frozen=True, slots=True)
class DriverRules:
    """Chinese drivers' hours: at most 4 h continuous driving, then a rest of at least 20 min
    (Regulations for the Implementation of the Road Traffic Safety Law, Art. 62(7))."""

    max_continuous_drive_s: float = 4 * 3600.0
    min_rest_s: float = 20 * 60.0


@dataclass(frozen=True, slots=True)
class Fleet:
    """Trucks of one vehicle model running one trip pattern on one corridor."""

    id: str
    vehicle_model: VehicleModel
    count: int
    pack_model: PackModel
    packs_per_vehicle: int
    corridor: str
    origin_km: float
    destination_km: float
    trips_per_day: float  # one-way trips per truck per day
    departure_weights: tuple[float, ...]  # 24 hourly weights of the departure-time profile
    loaded_share: float  # share of trips driven loaded
    payload_kg: float  # payload of a loaded trip
    empty_mass_kg: float
    cruise_speed_kmh: float
    informed_share: float = 1.0  # share of drivers who know which stations can serve them
    initial_soc: float = 0.95
    turnaround_s: float = 3600.0  # loading or unloading at either end of a trip [estimate]
    # Plug-in charging at either end during the turnaround (0: none, the trucks rely on swaps).
    depot_charge_kw: float = 0.0
    adapters: tuple[Adapter, ...] = ()
    return_trips: bool = True  # trucks run back and forth between origin and destination


@dataclass(frozen=True, slots=True)
class EconomicsInputs:
    service_price_cny_per_kwh: float = 1.1  # all-in swap price, brokerage report 2023 (secondary)
    pack_price_cny_per_kwh: float = 700.0  # estimate, domain facts 5.4
    diesel_price_cny_per_l: float = 7.61  # Jan 2023 (secondary)
    diesel_l_per_100km: float = 33.0  # CATL baseline (secondary)
    diesel_co2_kg_per_l: float = 2.66  # DEFRA 2024
    grid_co2_kg_per_kwh: float = 0.5366  # MEE/NBS 2022 national average
    discount_rate: float = 0.08  # estimate
    lifetime_years: float = 10.0  # estimate (enerax warns 5-7 years hurts returns)
    opex_frac_of_capex_per_year: float = 0.03  # estimate


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything one simulation run needs."""

    id: str
    name: str
    description: str
    catalog: Catalog
    corridors: tuple[Corridor, ...]
    stations: tuple[StationSite, ...]
    fleets: tuple[Fleet, ...]
    energy: EnergyModelParams
    timing: SwapTiming
    driver: DriverRules
    economics: EconomicsInputs
    days: float
    warmup_days: float
    seed: int
    replications: int
    reserve_frac: float = 0.10  # energy a driver keeps in reserve on arrival, of the pack total
    charged_soc: float = 0.95  # a pack counts as charged (ready to swap out) from this SoC
    sources: tuple[Source, ...] = field(default=())

    def corridor(self, ident: str) -> Corridor:
        for c in self.corridors:
            if c.id == ident:
                return c
        raise KeyError(ident)
