"""The catalog aggregate: every specification and asset of one catalog, looked up by id."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from openswap.domain.assets import Pack, Station, Vehicle
from openswap.domain.errors import UnknownIdError
from openswap.domain.specs import Adapter, FrameStandard, PackModel, StationDesign, VehicleModel

T = TypeVar("T")


def _lookup(kind: str, table: Mapping[str, T], ident: str) -> T:
    try:
        return table[ident]
    except KeyError:
        raise UnknownIdError(kind, ident, tuple(sorted(table))) from None


@dataclass(frozen=True, slots=True)
class Catalog:
    """Specifications (frames, pack and vehicle models, station designs, adapters) and assets
    (packs, vehicles, stations), each keyed by its id. Built and validated by `openswap.catalog`.
    """

    frames: Mapping[str, FrameStandard] = field(default_factory=dict)
    pack_models: Mapping[str, PackModel] = field(default_factory=dict)
    vehicle_models: Mapping[str, VehicleModel] = field(default_factory=dict)
    station_designs: Mapping[str, StationDesign] = field(default_factory=dict)
    adapters: Mapping[str, Adapter] = field(default_factory=dict)
    packs: Mapping[str, Pack] = field(default_factory=dict)
    vehicles: Mapping[str, Vehicle] = field(default_factory=dict)
    stations: Mapping[str, Station] = field(default_factory=dict)

    def frame(self, ident: str) -> FrameStandard:
        return _lookup("frame standard", self.frames, ident)

    def pack_model(self, ident: str) -> PackModel:
        return _lookup("pack model", self.pack_models, ident)

    def vehicle_model(self, ident: str) -> VehicleModel:
        return _lookup("vehicle model", self.vehicle_models, ident)

    def station_design(self, ident: str) -> StationDesign:
        return _lookup("station design", self.station_designs, ident)

    def adapter(self, ident: str) -> Adapter:
        return _lookup("adapter", self.adapters, ident)

    def pack(self, serial: str) -> Pack:
        return _lookup("pack", self.packs, serial)

    def vehicle(self, ident: str) -> Vehicle:
        return _lookup("vehicle", self.vehicles, ident)

    def station(self, ident: str) -> Station:
        return _lookup("station", self.stations, ident)
