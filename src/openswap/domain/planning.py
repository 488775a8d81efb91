"""The charging-decision protocol: what a station shows a scheduler, and what it gets back.

A station calls `Scheduler.plan(snapshot)` at each decision epoch; the returned `ChargingPlan`
holds one grid-side power setpoint per charger slot, valid until the next decision. Every
scheduler (rule baselines, the network model, LP) implements this one protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class StationSnapshot:
    """A station's charging state at a decision time.

    Per-slot tuples are indexed by slot number and all have `len(slot_max_power_kw)` entries.
    Powers are grid-side (what the charger draws); a pack receives power x efficiency. `soc` is
    the fraction of a pack's usable energy. An empty slot has pack model -1 and zero energies.
    """

    time_s: float  # seconds since scenario start
    time_of_day_s: float  # local clock, 0 <= value < 86,400
    grid_cap_kw: float  # active power available for charging (kVA x PF - auxiliary load)
    slot_max_power_kw: tuple[float, ...]  # charger limit, grid side
    slot_efficiency: tuple[float, ...]  # charger efficiency, 0..1
    slot_pack_model: tuple[int, ...]  # pack model index in the slot, -1 when empty
    slot_energy_kwh: tuple[float, ...]  # energy in the pack now
    slot_capacity_kwh: tuple[float, ...]  # the pack's usable energy (full)
    slot_accept_kw: tuple[float, ...]  # most the pack can take now (CC-CV taper), grid side
    slot_reserved: tuple[bool, ...]  # pack promised to a truck in a bay
    charged_soc: float  # a pack at or above this SoC counts as charged stock
    charged_stock: tuple[int, ...]  # charged, unpromised packs, by pack model index
    trucks_queued: int  # trucks waiting for a bay
    trucks_waiting_for_packs: tuple[int, ...]  # trucks in a bay waiting, by pack model index
    hourly_price_cny_per_kwh: tuple[float, ...]  # 24 entries (local hour 0..23), or empty
    # Trucks that announced they are on their way (a booked swap): (expected arrival time_s,
    # pack model index, packs), earliest first. Empty when the station knows of none.
    announced_arrivals: tuple[tuple[float, int, int], ...] = ()

    @property
    def slot_count(self) -> int:
        return len(self.slot_max_power_kw)


@dataclass(frozen=True, slots=True)
class ChargingPlan:
    """Grid-side power setpoints, one per slot, held until `valid_until_s` or a new decision.

    A slot draws min(setpoint, what its pack accepts); an empty slot draws nothing, and a pack
    that docks into it later starts at the slot's setpoint. The sum of setpoints must not exceed
    the snapshot's grid cap and no setpoint may exceed its slot's charger limit.
    """

    setpoints_kw: tuple[float, ...]
    valid_until_s: float  # the station asks again no later than this (may be infinite)


@runtime_checkable
class Scheduler(Protocol):
    """Decides per-slot charging power for one station at one decision time."""

    def plan(self, snapshot: StationSnapshot) -> ChargingPlan:
        """Return setpoints for every slot of `snapshot`; `valid_until_s` > `snapshot.time_s`."""
        ...


@dataclass(frozen=True, slots=True)
class TruckLeg:
    """A truck about to drive a leg that ends in a swap: what a route advisor is told.

    Positions are km along the truck's corridor; `candidates` are the indices of the stations
    ahead of it, in driving order, that can serve it and that it can reach on its energy.
    """

    truck: int
    time_s: float  # seconds since scenario start
    corridor: str
    position_km: float
    destination_km: float
    speed_kmh: float
    pack_model: int  # pack model index
    packs: int
    candidates: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class NetworkView:
    """What a route advisor sees of the network when a truck asks: station positions, and
    per station its charged stock by pack model, trucks queued or in a bay, and announced
    arrivals (as in `StationSnapshot.announced_arrivals`)."""

    time_s: float
    station_km: tuple[float, ...]
    station_bays: tuple[int, ...]
    charged_stock: tuple[tuple[int, ...], ...]  # [station][pack model]
    trucks_at_station: tuple[int, ...]  # queued or in a bay
    announced_arrivals: tuple[tuple[tuple[float, int, int], ...], ...]  # [station]
    leg: TruckLeg


@runtime_checkable
class RouteAdvisor(Protocol):
    """Suggests where a truck that needs a swap should stop (reservations, in practice)."""

    def advise(self, view: NetworkView) -> Mapping[int, int]:
        """Truck index -> advised station index (any truck may be left out; one not among
        its leg's candidates is ignored by the caller)."""
        ...
