"""Assets: individual packs, vehicles and stations, with the state that changes in operation."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from openswap.domain.specs import Adapter, PackModel, StationDesign, VehicleModel


class SafetyState(StrEnum):
    OK = "ok"
    ALARM = "alarm"
    QUARANTINED = "quarantined"


@dataclass(frozen=True, slots=True)
class Pack:
    """One physical pack, identified by its serial number.

    `soc` is the fraction of the usable window the BMS reports (0..1); `soh` is capacity
    state of health (0..1). Energy available = usable_energy_kwh x soh x soc.
    """

    serial: str
    model: PackModel
    owner: str
    soc: float
    soh: float
    cycle_count: int
    safety_state: SafetyState
    insulation_resistance_ohm: float  # last measured, at the pack's terminals
    max_cell_temp_spread_c: float  # hottest minus coldest cell, last reading

    @property
    def available_energy_kwh(self) -> float:
        return self.model.usable_energy_kwh * self.soh * self.soc


@dataclass(frozen=True, slots=True)
class Vehicle:
    """One truck of a fleet, with the adapters it carries and how many packs it runs with."""

    id: str
    model: VehicleModel
    fleet: str
    pack_count: int
    adapters: tuple[Adapter, ...] = ()


@dataclass(frozen=True, slots=True)
class Station:
    """One built station: a design, its operator, its stocked pack models and adapters."""

    id: str
    design: StationDesign
    name: str
    stocked_models: tuple[str, ...] = ()  # pack model ids kept on the rack
    adapters: tuple[Adapter, ...] = ()
