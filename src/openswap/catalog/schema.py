"""Pydantic models of catalog files: one model per entry kind, field names as in `domain.specs`.

Models are strict (a quoted "650" is not a number) and forbid unknown fields, so a wrong unit
such as `energy_wh` is reported rather than ignored. Bounds reject absurd values; checks that
span several fields of one entry live in each model's `cross_field_problems`.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from openswap.domain.assets import SafetyState
from openswap.domain.specs import (
    AdapterKind,
    BmsProtocol,
    ChargerStandard,
    Chemistry,
    LockMechanism,
    MountType,
    SwapType,
    ThermalManagement,
)

RelativeLoc = tuple[str | int, ...]
FieldProblem = tuple[RelativeLoc, str]


def _interval(lo: float, hi: float, lo_open: bool, hi_open: bool, unit: str) -> str:
    parts = []
    if lo > -math.inf:
        parts.append(f"{'>' if lo_open else '>='} {lo:g}")
    if hi < math.inf:
        parts.append(f"{'<' if hi_open else '<='} {hi:g}")
    return " and ".join(parts) + (f" {unit}" if unit else "")


def _bounded(
    lo: float,
    hi: float = math.inf,
    *,
    unit: str = "",
    lo_open: bool = True,
    hi_open: bool = False,
    why: str = "",
) -> AfterValidator:
    """A finite-number check with a message that states the bounds, unit and reason."""
    expected = _interval(lo, hi, lo_open, hi_open, unit)
    suffix = f" ({why})" if why else ""

    def check(value: float) -> float:
        too_low = value <= lo if lo_open else value < lo
        too_high = value >= hi if hi_open else value > hi
        if not math.isfinite(value) or too_low or too_high:
            raise PydanticCustomError(
                "out_of_range",
                "{value} must be {expected}{suffix}",
                {"value": f"{value:g}", "expected": expected, "suffix": suffix},
            )
        return value

    return AfterValidator(check)


_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")


def _check_id(value: str) -> str:
    if not _ID_PATTERN.fullmatch(value):
        raise PydanticCustomError(
            "bad_id",
            "{value} is not a valid id: use 1-100 letters, digits and . _ : - "
            "starting with a letter or digit",
            {"value": repr(value)},
        )
    return value


def _check_text(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("empty_text", "must not be empty", {})
    return value


Ident = Annotated[str, AfterValidator(_check_id)]
Text = Annotated[str, AfterValidator(_check_text)]

LengthMm = Annotated[float, _bounded(0, 20_000, unit="mm", hi_open=True)]
VoltageV = Annotated[
    float, _bounded(0, 1_500, unit="V", why="voltage class B DC ceiling, GB 18384-2020")
]
EnergyKwh = Annotated[float, _bounded(0, 2_000, unit="kWh")]
MassKg = Annotated[float, _bounded(0, unit="kg")]
PowerKw = Annotated[float, _bounded(0, 10_000, unit="kW")]
CurrentA = Annotated[float, _bounded(0, 3_000, unit="A", why="MCS ceiling, SAE J3271")]
Fraction = Annotated[float, _bounded(0, 1, lo_open=False)]
PowerFactor = Annotated[float, _bounded(0, 1)]
NonNegativeKw = Annotated[float, _bounded(0, 10_000, unit="kW", lo_open=False)]
ApparentPowerKva = Annotated[float, _bounded(0, 100_000, unit="kVA")]
DurationS = Annotated[float, _bounded(0, 86_400, unit="s")]
ResistanceOhm = Annotated[float, _bounded(0, unit="ohm", lo_open=False)]
OhmPerV = Annotated[float, _bounded(0, unit="ohm/V")]
TempSpreadC = Annotated[float, _bounded(0, 200, unit="C", lo_open=False)]
Count = Annotated[int, Field(ge=1)]
CycleCount = Annotated[int, Field(ge=0)]

# Enum fields accept their string values (strict mode alone would demand enum instances).
Mount = Annotated[MountType, Field(strict=False)]
Lock = Annotated[LockMechanism, Field(strict=False)]
Standard = Annotated[ChargerStandard, Field(strict=False)]
Protocol = Annotated[BmsProtocol, Field(strict=False)]
ChemistryField = Annotated[Chemistry, Field(strict=False)]
Thermal = Annotated[ThermalManagement, Field(strict=False)]
SwapTypeField = Annotated[SwapType, Field(strict=False)]
AdapterKindField = Annotated[AdapterKind, Field(strict=False)]
Safety = Annotated[SafetyState, Field(strict=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# Public names for other file schemas (scenario files) built on the same conventions.
StrictModel = _Strict
bounded = _bounded


class SourceEntry(_Strict):
    ref: Text
    confidence: Literal["primary", "secondary", "weak", "doc", "estimate"]


class Entry(_Strict):
    """Common base of top-level entries: an optional list of sources."""

    id_field: ClassVar[str] = "id"
    sources: list[SourceEntry] = Field(default_factory=list)

    def cross_field_problems(self) -> list[FieldProblem]:
        """Problems that involve several fields of this entry, each at its field."""
        return []


def _window_problems(
    prefix: RelativeLoc, min_v: float, max_v: float, names: tuple[str, str]
) -> list[FieldProblem]:
    if min_v > max_v:
        return [
            (
                (*prefix, names[0]),
                f"{names[0]} {min_v:g} V is above {names[1]} {max_v:g} V",
            )
        ]
    return []


class EnvelopeEntry(_Strict):
    length_mm: LengthMm
    width_mm: LengthMm
    height_mm: LengthMm


class FrameEntry(Entry):
    id: Ident
    name: Text
    envelope: EnvelopeEntry
    max_mass_kg: MassKg
    mount: Mount
    lock: Lock
    interface_id: Ident


class PackModelEntry(Entry):
    id: Ident
    maker: Text
    name: Text
    frame: Ident
    chemistry: ChemistryField
    cell_format: Text
    cells_in_series: Count
    cells_in_parallel: Count
    nominal_voltage_v: VoltageV
    min_voltage_v: VoltageV
    max_voltage_v: VoltageV
    usable_energy_kwh: EnergyKwh
    max_discharge_power_kw: PowerKw
    max_charge_power_kw: PowerKw
    hv_connector: Ident
    bms_protocols: Annotated[list[Protocol], Field(min_length=1)]
    charge_standards: Annotated[list[Standard], Field(min_length=1)]
    thermal: Thermal
    insulation_rating_ohm_per_v: OhmPerV
    mass_kg: MassKg
    cycle_life: Count

    def cross_field_problems(self) -> list[FieldProblem]:
        out = _window_problems(
            (), self.min_voltage_v, self.max_voltage_v, ("min_voltage_v", "max_voltage_v")
        )
        if not out and not self.min_voltage_v <= self.nominal_voltage_v <= self.max_voltage_v:
            out.append(
                (
                    ("nominal_voltage_v",),
                    f"nominal_voltage_v {self.nominal_voltage_v:g} V lies outside the window "
                    f"{self.min_voltage_v:g}-{self.max_voltage_v:g} V",
                )
            )
        return out


class VehicleModelEntry(Entry):
    id: Ident
    oem: Text
    name: Text
    body: Text
    gcw_kg: MassKg
    mount: Mount
    bay_envelope: EnvelopeEntry
    pack_positions: Count
    max_pack_mass_kg: MassKg
    accepted_frames: Annotated[list[Ident], Field(min_length=1)]
    accepted_locks: Annotated[list[Lock], Field(min_length=1)]
    hv_min_voltage_v: VoltageV
    hv_max_voltage_v: VoltageV
    hv_connector: Ident
    bms_protocols: Annotated[list[Protocol], Field(min_length=1)]
    peak_traction_power_kw: PowerKw

    def cross_field_problems(self) -> list[FieldProblem]:
        return _window_problems(
            (),
            self.hv_min_voltage_v,
            self.hv_max_voltage_v,
            ("hv_min_voltage_v", "hv_max_voltage_v"),
        )


class SlotChargerEntry(_Strict):
    standard: Standard
    min_voltage_v: VoltageV
    max_voltage_v: VoltageV
    max_current_a: CurrentA
    max_power_kw: PowerKw
    count: Count = 1


class SwapRobotEntry(_Strict):
    kind: Text
    frames: Annotated[list[Ident], Field(min_length=1)]
    locks: Annotated[list[Lock], Field(min_length=1)]
    max_pack_mass_kg: MassKg


class StationDesignEntry(Entry):
    id: Ident
    name: Text
    operator: Text
    swap_type: SwapTypeField
    bays: Count
    robot: SwapRobotEntry
    chargers: Annotated[list[SlotChargerEntry], Field(min_length=1)]
    grid_kva: ApparentPowerKva
    power_factor: PowerFactor
    aux_load_kw: NonNegativeKw
    swap_time_s: DurationS

    def cross_field_problems(self) -> list[FieldProblem]:
        out: list[FieldProblem] = []
        for index, charger in enumerate(self.chargers):
            out += _window_problems(
                ("chargers", index),
                charger.min_voltage_v,
                charger.max_voltage_v,
                ("min_voltage_v", "max_voltage_v"),
            )
        active_kw = self.grid_kva * self.power_factor
        if self.aux_load_kw >= active_kw:
            out.append(
                (
                    ("aux_load_kw",),
                    f"aux_load_kw {self.aux_load_kw:g} kW leaves no power for charging out of "
                    f"grid_kva x power_factor = {active_kw:g} kW",
                )
            )
        return out


class AdapterEntry(Entry):
    id: Ident
    kind: AdapterKindField
    from_id: Ident
    to_id: Ident
    certification: Text
    max_current_a: CurrentA | None = None

    def cross_field_problems(self) -> list[FieldProblem]:
        if self.from_id == self.to_id:
            return [(("to_id",), f"to_id equals from_id {self.from_id!r}: nothing to adapt")]
        return []


class PackEntry(Entry):
    id_field: ClassVar[str] = "serial"
    serial: Ident
    model: Ident
    owner: Text
    soc: Fraction
    soh: Fraction
    cycle_count: CycleCount
    safety_state: Safety
    insulation_resistance_ohm: ResistanceOhm
    max_cell_temp_spread_c: TempSpreadC


class VehicleEntry(Entry):
    id: Ident
    model: Ident
    fleet: Text
    pack_count: Count
    adapters: list[Ident] = Field(default_factory=list)


class StationEntry(Entry):
    id: Ident
    design: Ident
    name: Text
    stocked_models: list[Ident] = Field(default_factory=list)
    adapters: list[Ident] = Field(default_factory=list)


# Top-level sections in the order they are resolved (each refers only to earlier ones).
SECTIONS: dict[str, type[Entry]] = {
    "frames": FrameEntry,
    "pack_models": PackModelEntry,
    "vehicle_models": VehicleModelEntry,
    "adapters": AdapterEntry,
    "station_designs": StationDesignEntry,
    "packs": PackEntry,
    "vehicles": VehicleEntry,
    "stations": StationEntry,
}


# References between entries: (section, field path, target section). "*" walks every item of a
# list. Adapter ends are frame ids only for frame adapters (see `reference_paths`).
REFERENCES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("pack_models", ("frame",), "frames"),
    ("vehicle_models", ("accepted_frames", "*"), "frames"),
    ("adapters", ("from_id",), "frames"),
    ("adapters", ("to_id",), "frames"),
    ("station_designs", ("robot", "frames", "*"), "frames"),
    ("packs", ("model",), "pack_models"),
    ("vehicles", ("model",), "vehicle_models"),
    ("vehicles", ("adapters", "*"), "adapters"),
    ("stations", ("design",), "station_designs"),
    ("stations", ("stocked_models", "*"), "pack_models"),
    ("stations", ("adapters", "*"), "adapters"),
)


def reference_paths(section: str, item: Any) -> list[tuple[tuple[str | int, ...], str, str]]:
    """Every id a raw entry refers to, as (path in the entry, id, target section).

    Works on unvalidated data so that references are checked even in entries with other
    problems; values that are not strings are left to schema validation.
    """
    if not isinstance(item, dict):
        return []
    found: list[tuple[tuple[str | int, ...], str, str]] = []
    for ref_section, pattern, target in REFERENCES:
        if ref_section != section:
            continue
        if section == "adapters" and item.get("kind") != AdapterKind.FRAME.value:
            continue
        found += [(path, value, target) for path, value in _walk(item, pattern, ())]
    return found


def _walk(
    value: Any, pattern: tuple[str, ...], path: tuple[str | int, ...]
) -> list[tuple[tuple[str | int, ...], str]]:
    if not pattern:
        return [(path, value)] if isinstance(value, str) else []
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        if not isinstance(value, list):
            return []
        return [hit for i, v in enumerate(value) for hit in _walk(v, rest, (*path, i))]
    if not isinstance(value, dict) or head not in value:
        return []
    return _walk(value[head], rest, (*path, head))


def field_names_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (nested) model reached by following `loc` from `model`.

    Used to suggest the intended name for an unknown field; returns [] when `loc` leads
    anywhere but a model.
    """
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            args = getattr(current, "__args__", ())
            current = args[0] if args else None
            continue
        fields = getattr(current, "model_fields", None)
        if not isinstance(fields, dict) or part not in fields:
            return []
        # pydantic strips Annotated metadata from `annotation`; list[...] is unwrapped above.
        current = fields[part].annotation
    fields = getattr(current, "model_fields", None)
    return list(fields) if isinstance(fields, dict) else []
