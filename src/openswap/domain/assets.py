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


def new_pack(model: PackModel, serial: str, owner: str = "") -> Pack:
    """A pack as delivered: full, SoH 1, no cycles, insulation at its rating, no spread."""
    return Pack(
        serial=serial,
        model=model,
        owner=owner,
        soc=1.0,
        soh=1.0,
        cycle_count=0,
        safety_state=SafetyState.OK,
        insulation_resistance_ohm=model.insulation_rating_ohm_per_v * model.max_voltage_v,
        max_cell_temp_spread_c=0.0,
    )


def nominal_vehicle(model: VehicleModel, fleet: str = "") -> Vehicle:
    """A vehicle of `model` with every pack position filled and no adapters."""
    return Vehicle(id=model.id, model=model, fleet=fleet, pack_count=model.pack_positions)


def nominal_station(design: StationDesign) -> Station:
    """A station built to `design` with nothing stocked and no adapters."""
    return Station(id=design.id, design=design, name=design.name)
