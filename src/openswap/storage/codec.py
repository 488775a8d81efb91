"""JSON form of the catalog specifications stored in the `spec` columns, and back.

The JSON is plain data (enums as their values, frozensets as sorted lists); a pack model stores
its frame by id. Decoded objects are interned per (kind, id, JSON) for the process, so the
compatibility engine's per-object memo keeps hitting across units of work.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from openswap.domain.specs import (
    Adapter,
    AdapterKind,
    BmsProtocol,
    ChargerStandard,
    Chemistry,
    Envelope,
    FrameStandard,
    LockMechanism,
    MountType,
    PackModel,
    SlotCharger,
    Source,
    StationDesign,
    SwapRobot,
    SwapType,
    ThermalManagement,
    VehicleModel,
)

T = TypeVar("T")
Json = dict[str, Any]


def _envelope(e: Envelope) -> Json:
    return {"length_mm": e.length_mm, "width_mm": e.width_mm, "height_mm": e.height_mm}


def _sources(sources: tuple[Source, ...]) -> list[Json]:
    return [{"ref": s.ref, "confidence": s.confidence} for s in sources]


def _sorted(values: frozenset[Any]) -> list[str]:
    return sorted(str(v) for v in values)


def frame_to_json(f: FrameStandard) -> Json:
    return {
        "id": f.id,
        "name": f.name,
        "envelope": _envelope(f.envelope),
        "max_mass_kg": f.max_mass_kg,
        "mount": str(f.mount),
        "lock": str(f.lock),
        "interface_id": f.interface_id,
        "sources": _sources(f.sources),
    }


def pack_model_to_json(p: PackModel) -> Json:
    return {
        "id": p.id,
        "maker": p.maker,
        "name": p.name,
        "frame_id": p.frame.id,
        "chemistry": str(p.chemistry),
        "cell_format": p.cell_format,
        "cells_in_series": p.cells_in_series,
        "cells_in_parallel": p.cells_in_parallel,
        "nominal_voltage_v": p.nominal_voltage_v,
        "min_voltage_v": p.min_voltage_v,
        "max_voltage_v": p.max_voltage_v,
        "usable_energy_kwh": p.usable_energy_kwh,
        "max_discharge_power_kw": p.max_discharge_power_kw,
        "max_charge_power_kw": p.max_charge_power_kw,
        "hv_connector": p.hv_connector,
        "bms_protocols": _sorted(p.bms_protocols),
        "charge_standards": _sorted(p.charge_standards),
        "thermal": str(p.thermal),
        "insulation_rating_ohm_per_v": p.insulation_rating_ohm_per_v,
        "mass_kg": p.mass_kg,
        "cycle_life": p.cycle_life,
        "sources": _sources(p.sources),
    }


def vehicle_model_to_json(v: VehicleModel) -> Json:
    return {
        "id": v.id,
        "oem": v.oem,
        "name": v.name,
        "body": v.body,
        "gcw_kg": v.gcw_kg,
        "mount": str(v.mount),
        "bay_envelope": _envelope(v.bay_envelope),
        "pack_positions": v.pack_positions,
        "max_pack_mass_kg": v.max_pack_mass_kg,
        "accepted_frames": _sorted(v.accepted_frames),
        "accepted_locks": _sorted(v.accepted_locks),
        "hv_min_voltage_v": v.hv_min_voltage_v,
        "hv_max_voltage_v": v.hv_max_voltage_v,
        "hv_connector": v.hv_connector,
        "bms_protocols": _sorted(v.bms_protocols),
        "peak_traction_power_kw": v.peak_traction_power_kw,
        "sources": _sources(v.sources),
    }


def station_design_to_json(d: StationDesign) -> Json:
    return {
        "id": d.id,
        "name": d.name,
        "operator": d.operator,
        "swap_type": str(d.swap_type),
        "bays": d.bays,
        "robot": {
            "kind": d.robot.kind,
            "frames": _sorted(d.robot.frames),
            "locks": _sorted(d.robot.locks),
            "max_pack_mass_kg": d.robot.max_pack_mass_kg,
        },
        "chargers": [
            {
                "standard": str(c.standard),
                "min_voltage_v": c.min_voltage_v,
                "max_voltage_v": c.max_voltage_v,
                "max_current_a": c.max_current_a,
                "max_power_kw": c.max_power_kw,
                "count": c.count,
            }
            for c in d.chargers
        ],
        "grid_kva": d.grid_kva,
        "power_factor": d.power_factor,
        "aux_load_kw": d.aux_load_kw,
        "swap_time_s": d.swap_time_s,
        "sources": _sources(d.sources),
    }


def adapter_to_json(a: Adapter) -> Json:
    return {
        "id": a.id,
        "kind": str(a.kind),
        "from_id": a.from_id,
        "to_id": a.to_id,
        "certification": a.certification,
        "max_current_a": a.max_current_a,
        "sources": _sources(a.sources),
    }


def _env(j: Json) -> Envelope:
    return Envelope(float(j["length_mm"]), float(j["width_mm"]), float(j["height_mm"]))


def _srcs(j: list[Json]) -> tuple[Source, ...]:
    return tuple(Source(str(s["ref"]), str(s["confidence"])) for s in j)


def frame_from_json(j: Json) -> FrameStandard:
    return FrameStandard(
        id=j["id"],
        name=j["name"],
        envelope=_env(j["envelope"]),
        max_mass_kg=float(j["max_mass_kg"]),
        mount=MountType(j["mount"]),
        lock=LockMechanism(j["lock"]),
        interface_id=j["interface_id"],
        sources=_srcs(j["sources"]),
    )


def pack_model_from_json(j: Json, frame: FrameStandard) -> PackModel:
    return PackModel(
        id=j["id"],
        maker=j["maker"],
        name=j["name"],
        frame=frame,
        chemistry=Chemistry(j["chemistry"]),
        cell_format=j["cell_format"],
        cells_in_series=int(j["cells_in_series"]),
        cells_in_parallel=int(j["cells_in_parallel"]),
        nominal_voltage_v=float(j["nominal_voltage_v"]),
        min_voltage_v=float(j["min_voltage_v"]),
        max_voltage_v=float(j["max_voltage_v"]),
        usable_energy_kwh=float(j["usable_energy_kwh"]),
        max_discharge_power_kw=float(j["max_discharge_power_kw"]),
        max_charge_power_kw=float(j["max_charge_power_kw"]),
        hv_connector=j["hv_connector"],
        bms_protocols=frozenset(BmsProtocol(b) for b in j["bms_protocols"]),
        charge_standards=frozenset(ChargerStandard(c) for c in j["charge_standards"]),
        thermal=ThermalManagement(j["thermal"]),
        insulation_rating_ohm_per_v=float(j["insulation_rating_ohm_per_v"]),
        mass_kg=float(j["mass_kg"]),
        cycle_life=int(j["cycle_life"]),
        sources=_srcs(j["sources"]),
    )


def vehicle_model_from_json(j: Json) -> VehicleModel:
    return VehicleModel(
        id=j["id"],
        oem=j["oem"],
        name=j["name"],
        body=j["body"],
        gcw_kg=float(j["gcw_kg"]),
        mount=MountType(j["mount"]),
        bay_envelope=_env(j["bay_envelope"]),
        pack_positions=int(j["pack_positions"]),
        max_pack_mass_kg=float(j["max_pack_mass_kg"]),
        accepted_frames=frozenset(j["accepted_frames"]),
        accepted_locks=frozenset(LockMechanism(x) for x in j["accepted_locks"]),
        hv_min_voltage_v=float(j["hv_min_voltage_v"]),
        hv_max_voltage_v=float(j["hv_max_voltage_v"]),
        hv_connector=j["hv_connector"],
        bms_protocols=frozenset(BmsProtocol(b) for b in j["bms_protocols"]),
        peak_traction_power_kw=float(j["peak_traction_power_kw"]),
        sources=_srcs(j["sources"]),
    )


def station_design_from_json(j: Json) -> StationDesign:
    r = j["robot"]
    return StationDesign(
        id=j["id"],
        name=j["name"],
        operator=j["operator"],
        swap_type=SwapType(j["swap_type"]),
        bays=int(j["bays"]),
        robot=SwapRobot(
            kind=r["kind"],
            frames=frozenset(r["frames"]),
            locks=frozenset(LockMechanism(x) for x in r["locks"]),
            max_pack_mass_kg=float(r["max_pack_mass_kg"]),
        ),
        chargers=tuple(
            SlotCharger(
                standard=ChargerStandard(c["standard"]),
                min_voltage_v=float(c["min_voltage_v"]),
                max_voltage_v=float(c["max_voltage_v"]),
                max_current_a=float(c["max_current_a"]),
                max_power_kw=float(c["max_power_kw"]),
                count=int(c["count"]),
            )
            for c in j["chargers"]
        ),
        grid_kva=float(j["grid_kva"]),
        power_factor=float(j["power_factor"]),
        aux_load_kw=float(j["aux_load_kw"]),
        swap_time_s=float(j["swap_time_s"]),
        sources=_srcs(j["sources"]),
    )


def adapter_from_json(j: Json) -> Adapter:
    current = j.get("max_current_a")
    return Adapter(
        id=j["id"],
        kind=AdapterKind(j["kind"]),
        from_id=j["from_id"],
        to_id=j["to_id"],
        certification=j["certification"],
        max_current_a=None if current is None else float(current),
        sources=_srcs(j["sources"]),
    )


class SpecInterner:
    """Decodes each distinct (kind, id, JSON) once per process and hands out that object."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[tuple[str, str, str], object] = {}

    def get(self, kind: str, spec: Mapping[str, Any], build: Callable[[], T]) -> T:
        key = (kind, str(spec["id"]), json.dumps(spec, sort_keys=True))
        with self._lock:
            hit = self._objects.get(key)
        if hit is not None:
            return hit  # type: ignore[return-value]
        built = build()
        with self._lock:
            return self._objects.setdefault(key, built)  # type: ignore[return-value]


INTERNER = SpecInterner()
