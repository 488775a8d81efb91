"""Turns validated entries of one or more files into a `Catalog`, resolving references by id.

Sections are resolved in dependency order (frames, pack models, vehicle models, adapters,
station designs, packs, vehicles, stations). References are checked on the raw data of every
entry, valid or not; a reference to nothing names the missing id and close matches. An entry
whose references point at entries that failed validation is quietly not built (the catalog is
not returned in that case anyway).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TypeVar

from openswap.catalog.entries import DeclaredId, Located, Reference, suggest
from openswap.catalog.schema import (
    SECTIONS,
    AdapterEntry,
    Entry,
    EnvelopeEntry,
    FrameEntry,
    PackEntry,
    PackModelEntry,
    SourceEntry,
    StationDesignEntry,
    StationEntry,
    VehicleEntry,
    VehicleModelEntry,
)
from openswap.domain.assets import Pack, Station, Vehicle
from openswap.domain.catalog import Catalog
from openswap.domain.errors import Problem
from openswap.domain.specs import (
    SWAP_TYPE_SERVES_MOUNT,
    Adapter,
    AdapterKind,
    Envelope,
    FrameStandard,
    MountType,
    PackModel,
    SlotCharger,
    Source,
    StationDesign,
    SwapRobot,
    VehicleModel,
)

T = TypeVar("T")

KIND = {
    "frames": "frame",
    "pack_models": "pack model",
    "vehicle_models": "vehicle model",
    "adapters": "adapter",
    "station_designs": "station design",
    "packs": "pack",
    "vehicles": "vehicle",
    "stations": "station",
}


def _envelope(e: EnvelopeEntry) -> Envelope:
    return Envelope(e.length_mm, e.width_mm, e.height_mm)


def _sources(sources: list[SourceEntry]) -> tuple[Source, ...]:
    return tuple(Source(s.ref, s.confidence) for s in sources)


class Resolver:
    """Builds domain objects section by section and collects every problem it meets."""

    def __init__(
        self,
        declared: list[DeclaredId],
        references: list[Reference],
        base: Catalog | None = None,
    ) -> None:
        self.problems: list[Problem] = []
        self.declared: dict[str, set[str]] = {section: set() for section in SECTIONS}
        self.frames: dict[str, FrameStandard] = {}
        self.pack_models: dict[str, PackModel] = {}
        self.vehicle_models: dict[str, VehicleModel] = {}
        self.adapters: dict[str, Adapter] = {}
        self.station_designs: dict[str, StationDesign] = {}
        self.packs: dict[str, Pack] = {}
        self.vehicles: dict[str, Vehicle] = {}
        self.stations: dict[str, Station] = {}
        if base is not None:
            self._include(base)
        self._check_duplicates(declared)
        self._check_references(references)

    def _include(self, base: Catalog) -> None:
        """Make the specifications of `base` known, so entries may refer to them."""
        self.frames.update(base.frames)
        self.pack_models.update(base.pack_models)
        self.vehicle_models.update(base.vehicle_models)
        self.adapters.update(base.adapters)
        self.station_designs.update(base.station_designs)
        for section in ("frames", "pack_models", "vehicle_models", "adapters", "station_designs"):
            self.declared[section].update(getattr(base, section))

    def _check_duplicates(self, declared: list[DeclaredId]) -> None:
        first: dict[tuple[str, str], DeclaredId] = {}
        for d in declared:
            key = (d.section, d.ident)
            self.declared[d.section].add(d.ident)
            if key in first:
                label = "serial" if d.section == "packs" else "id"
                self.problems.append(
                    d.doc.problem(
                        f"duplicate {KIND[d.section]} {label} {d.ident!r}: first defined at "
                        f"{first[key].where()}, again at {d.where()}",
                        d.path,
                    )
                )
            else:
                first[key] = d

    def _check_references(self, references: list[Reference]) -> None:
        for r in references:
            if r.ident in self.declared[r.target]:
                continue
            known = sorted(self.declared[r.target])
            close = suggest(r.ident, known)
            if close:
                hint = f"; did you mean {' or '.join(repr(c) for c in close)}?"
            elif known:
                hint = f" (known: {', '.join(known[:8])}{', ...' if len(known) > 8 else ''})"
            else:
                hint = f" (no {KIND[r.target]} is defined)"
            self.problems.append(
                r.doc.problem(f"unknown {KIND[r.target]} {r.ident!r}{hint}", r.path)
            )

    @staticmethod
    def refs(idents: list[str], table: Mapping[str, T]) -> list[T] | None:
        """The entries named by `idents`; None when any is missing (reported already)."""
        found = [table[i] for i in idents if i in table]
        return found if len(found) == len(idents) else None

    @staticmethod
    def _fresh(table: Mapping[str, object], ident: str) -> bool:
        # A duplicate id was reported already; the first definition stays.
        return ident not in table

    # --- one method per section, called in SECTIONS order ------------------------------------

    def add_frame(self, at: Located[Entry], e: FrameEntry) -> None:
        if self._fresh(self.frames, e.id):
            self.frames[e.id] = FrameStandard(
                e.id,
                e.name,
                _envelope(e.envelope),
                e.max_mass_kg,
                e.mount,
                e.lock,
                e.interface_id,
                _sources(e.sources),
            )

    def add_pack_model(self, at: Located[Entry], e: PackModelEntry) -> None:
        frame = self.frames.get(e.frame)
        if frame is None or not self._fresh(self.pack_models, e.id):
            return
        if e.mass_kg > frame.max_mass_kg:
            self.problems.append(
                at.problem(
                    f"mass_kg {e.mass_kg:g} kg exceeds the {frame.max_mass_kg:g} kg that frame "
                    f"{frame.id!r} allows",
                    "mass_kg",
                )
            )
            return
        self.pack_models[e.id] = PackModel(
            id=e.id,
            maker=e.maker,
            name=e.name,
            frame=frame,
            chemistry=e.chemistry,
            cell_format=e.cell_format,
            cells_in_series=e.cells_in_series,
            cells_in_parallel=e.cells_in_parallel,
            nominal_voltage_v=e.nominal_voltage_v,
            min_voltage_v=e.min_voltage_v,
            max_voltage_v=e.max_voltage_v,
            usable_energy_kwh=e.usable_energy_kwh,
            max_discharge_power_kw=e.max_discharge_power_kw,
            max_charge_power_kw=e.max_charge_power_kw,
            hv_connector=e.hv_connector,
            bms_protocols=frozenset(e.bms_protocols),
            charge_standards=frozenset(e.charge_standards),
            thermal=e.thermal,
            insulation_rating_ohm_per_v=e.insulation_rating_ohm_per_v,
            mass_kg=e.mass_kg,
            cycle_life=e.cycle_life,
            sources=_sources(e.sources),
        )

    def _frames_of_mount(
        self,
        at: Located[Entry],
        field: tuple[str, ...],
        idents: list[str],
        mount: MountType,
        what: str,
    ) -> bool:
        """Resolve frame ids at `field` and check each is of `mount`."""
        frames = self.refs(idents, self.frames)
        if frames is None:
            return False
        ok = True
        for i, frame in enumerate(frames):
            if frame.mount != mount:
                ok = False
                self.problems.append(
                    at.problem(
                        f"frame {frame.id!r} is a {frame.mount} frame; {what}",
                        *field,
                        i,
                    )
                )
        return ok

    def add_vehicle_model(self, at: Located[Entry], e: VehicleModelEntry) -> None:
        ok = self._frames_of_mount(
            at, ("accepted_frames",), e.accepted_frames, e.mount, f"the vehicle mount is {e.mount}"
        )
        if not ok or not self._fresh(self.vehicle_models, e.id):
            return
        self.vehicle_models[e.id] = VehicleModel(
            id=e.id,
            oem=e.oem,
            name=e.name,
            body=e.body,
            gcw_kg=e.gcw_kg,
            mount=e.mount,
            bay_envelope=_envelope(e.bay_envelope),
            pack_positions=e.pack_positions,
            max_pack_mass_kg=e.max_pack_mass_kg,
            accepted_frames=frozenset(e.accepted_frames),
            accepted_locks=frozenset(e.accepted_locks),
            hv_min_voltage_v=e.hv_min_voltage_v,
            hv_max_voltage_v=e.hv_max_voltage_v,
            hv_connector=e.hv_connector,
            bms_protocols=frozenset(e.bms_protocols),
            peak_traction_power_kw=e.peak_traction_power_kw,
            sources=_sources(e.sources),
        )

    def add_adapter(self, at: Located[Entry], e: AdapterEntry) -> None:
        if e.kind is AdapterKind.FRAME and self.refs([e.from_id, e.to_id], self.frames) is None:
            return
        if self._fresh(self.adapters, e.id):
            self.adapters[e.id] = Adapter(
                e.id,
                e.kind,
                e.from_id,
                e.to_id,
                e.certification,
                e.max_current_a,
                _sources(e.sources),
            )

    def add_station_design(self, at: Located[Entry], e: StationDesignEntry) -> None:
        mount = SWAP_TYPE_SERVES_MOUNT[e.swap_type]
        robot = e.robot
        if not self._frames_of_mount(
            at,
            ("robot", "frames"),
            robot.frames,
            mount,
            f"a {e.swap_type} station handles {mount} frames only",
        ):
            return
        if not self._fresh(self.station_designs, e.id):
            return
        self.station_designs[e.id] = StationDesign(
            id=e.id,
            name=e.name,
            operator=e.operator,
            swap_type=e.swap_type,
            bays=e.bays,
            robot=SwapRobot(
                robot.kind, frozenset(robot.frames), frozenset(robot.locks), robot.max_pack_mass_kg
            ),
            chargers=tuple(
                SlotCharger(
                    c.standard,
                    c.min_voltage_v,
                    c.max_voltage_v,
                    c.max_current_a,
                    c.max_power_kw,
                    c.count,
                )
                for c in e.chargers
            ),
            grid_kva=e.grid_kva,
            power_factor=e.power_factor,
            aux_load_kw=e.aux_load_kw,
            swap_time_s=e.swap_time_s,
            sources=_sources(e.sources),
        )

    def add_pack(self, at: Located[Entry], e: PackEntry) -> None:
        model = self.pack_models.get(e.model)
        if model is None or not self._fresh(self.packs, e.serial):
            return
        self.packs[e.serial] = Pack(
            serial=e.serial,
            model=model,
            owner=e.owner,
            soc=e.soc,
            soh=e.soh,
            cycle_count=e.cycle_count,
            safety_state=e.safety_state,
            insulation_resistance_ohm=e.insulation_resistance_ohm,
            max_cell_temp_spread_c=e.max_cell_temp_spread_c,
        )

    def add_vehicle(self, at: Located[Entry], e: VehicleEntry) -> None:
        model = self.vehicle_models.get(e.model)
        adapters = self.refs(e.adapters, self.adapters)
        if model is None or adapters is None or not self._fresh(self.vehicles, e.id):
            return
        if e.pack_count > model.pack_positions:
            self.problems.append(
                at.problem(
                    f"pack_count {e.pack_count} exceeds the {model.pack_positions} pack "
                    f"positions of vehicle model {model.id!r}",
                    "pack_count",
                )
            )
            return
        self.vehicles[e.id] = Vehicle(e.id, model, e.fleet, e.pack_count, tuple(adapters))

    def add_station(self, at: Located[Entry], e: StationEntry) -> None:
        design = self.station_designs.get(e.design)
        stocked = self.refs(e.stocked_models, self.pack_models)
        adapters = self.refs(e.adapters, self.adapters)
        if design is None or stocked is None or adapters is None:
            return
        if self._fresh(self.stations, e.id):
            self.stations[e.id] = Station(
                e.id, design, e.name, tuple(e.stocked_models), tuple(adapters)
            )

    def add(self, at: Located[Entry]) -> None:
        """Resolve one entry (callers feed entries in SECTIONS order)."""
        e = at.entry
        if isinstance(e, FrameEntry):
            self.add_frame(at, e)
        elif isinstance(e, PackModelEntry):
            self.add_pack_model(at, e)
        elif isinstance(e, VehicleModelEntry):
            self.add_vehicle_model(at, e)
        elif isinstance(e, AdapterEntry):
            self.add_adapter(at, e)
        elif isinstance(e, StationDesignEntry):
            self.add_station_design(at, e)
        elif isinstance(e, PackEntry):
            self.add_pack(at, e)
        elif isinstance(e, VehicleEntry):
            self.add_vehicle(at, e)
        elif isinstance(e, StationEntry):
            self.add_station(at, e)
        else:  # pragma: no cover - SECTIONS and this dispatch are kept in step
            raise TypeError(f"no resolver for {type(e).__name__}")

    def catalog(self) -> Catalog:
        """The read-only catalog of everything resolved."""
        return Catalog(
            frames=MappingProxyType(self.frames),
            pack_models=MappingProxyType(self.pack_models),
            vehicle_models=MappingProxyType(self.vehicle_models),
            station_designs=MappingProxyType(self.station_designs),
            adapters=MappingProxyType(self.adapters),
            packs=MappingProxyType(self.packs),
            vehicles=MappingProxyType(self.vehicles),
            stations=MappingProxyType(self.stations),
        )


def resolve(
    entries: list[Located[Entry]],
    declared: list[DeclaredId],
    references: list[Reference],
    base: Catalog | None = None,
) -> tuple[Catalog, list[Problem]]:
    """Resolve all entries of all files; the catalog is whole only when no problem is returned.

    The specifications of `base` (if any) may be referred to and are part of the result.
    """
    resolver = Resolver(declared, references, base)
    order = {section: rank for rank, section in enumerate(SECTIONS)}
    for at in sorted(entries, key=lambda a: order[str(a.path[0])]):
        resolver.add(at)
    return resolver.catalog(), resolver.problems
