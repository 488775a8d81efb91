"""Specifications: frame standards, pack models, vehicle models, station designs and adapters.

Everything here is static catalog knowledge (what a product *is*), as frozen dataclasses with
units in every field name. Live state (a pack's SoC, a vehicle's fleet) lives in `assets`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class MountType(StrEnum):
    """Where a pack sits on the truck, which decides how a station reaches it."""

    CHASSIS = "chassis"  # under-body block swapped from below (QIJI #75)
    TOP_LIFT = "top_lift"  # "backpack" behind the cab, lifted by a crane (QC/T 1201.3)
    SIDE = "side"  # side-mounted packs pulled out sideways


class LockMechanism(StrEnum):
    """How a pack is held in the vehicle bay and on the station robot."""

    HYDRAULIC_PIN = "hydraulic_pin"
    ELECTROMAGNETIC_LATCH = "electromagnetic_latch"
    MECHANICAL_CLIP = "mechanical_clip"
    MULTI_LINK_SELF_LOCKING = "multi_link_self_locking"
    TWIST_LOCK = "twist_lock"


class ChargerStandard(StrEnum):
    """Conductive DC charging systems a rack slot charger can speak."""

    GBT = "gbt"  # GB/T 20234.3-2015 + GB/T 27930
    CCS2 = "ccs2"  # IEC 62196-3 Combo 2, IEC 61851-23, ISO 15118
    CHAOJI = "chaoji"  # GB/T 20234.4-2023 / CHAdeMO 3.x
    MCS = "mcs"  # CharIN Megawatt Charging System, SAE J3271 / IEC 63379


class BmsProtocol(StrEnum):
    """Vehicle-to-battery communication protocols."""

    GBT27930_2015 = "gbt27930-2015"
    GBT27930_2023 = "gbt27930-2023"
    SAE_J1939 = "sae-j1939"
    QCT1201_5 = "qct1201.5-2023"  # commercial-vehicle swap vehicle-battery communication
    VENDOR_CAN = "vendor-can"


class Chemistry(StrEnum):
    LFP = "LFP"
    LMFP = "LMFP"
    NMC = "NMC"
    SODIUM_ION = "Na-ion"


class ThermalManagement(StrEnum):
    LIQUID = "liquid"
    AIR = "air"
    REFRIGERANT = "refrigerant"
    NONE = "none"


class SwapType(StrEnum):
    """How a station exchanges packs; it must match the vehicle's mount type."""

    CHASSIS = "chassis"
    TOP_LIFT = "top_lift"
    SIDE = "side"


SWAP_TYPE_SERVES_MOUNT: dict[SwapType, MountType] = {
    SwapType.CHASSIS: MountType.CHASSIS,
    SwapType.TOP_LIFT: MountType.TOP_LIFT,
    SwapType.SIDE: MountType.SIDE,
}


class AdapterKind(StrEnum):
    FRAME = "frame"  # mechanical carrier: lets a pack of one frame sit in a bay built for another
    CONNECTOR = "connector"  # HV connector adapter between two coupler families


@dataclass(frozen=True, slots=True)
class Envelope:
    """A box in millimetres: length along the truck, width across it, height."""

    length_mm: float
    width_mm: float
    height_mm: float

    def fits_in(self, other: Envelope) -> bool:
        """True when this box fits inside `other` in every dimension (no rotation)."""
        return (
            self.length_mm <= other.length_mm
            and self.width_mm <= other.width_mm
            and self.height_mm <= other.height_mm
        )

    def __str__(self) -> str:
        return f"{self.length_mm:g}x{self.width_mm:g}x{self.height_mm:g} mm"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a catalog figure comes from: a URL or document, and how much to trust it."""

    ref: str
    confidence: str = "estimate"  # primary | secondary | weak | estimate | doc


@dataclass(frozen=True, slots=True)
class FrameStandard:
    """A mechanical frame family: the box, its mount, its lock and its mating interface."""

    id: str
    name: str
    envelope: Envelope
    max_mass_kg: float
    mount: MountType
    lock: LockMechanism
    interface_id: str  # locating and mating interface (pins, coupler position)
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True, slots=True)
class PackModel:
    """A swappable traction-pack product, as its maker specifies it."""

    id: str
    maker: str
    name: str
    frame: FrameStandard
    chemistry: Chemistry
    cell_format: str  # e.g. "prismatic 314Ah", "blade", "CTP"
    cells_in_series: int
    cells_in_parallel: int
    nominal_voltage_v: float
    min_voltage_v: float
    max_voltage_v: float
    usable_energy_kwh: float
    max_discharge_power_kw: float
    max_charge_power_kw: float
    hv_connector: str  # coupler family id, e.g. "qct1201.1-type-a"
    bms_protocols: frozenset[BmsProtocol]
    charge_standards: frozenset[ChargerStandard]  # rack-charging systems the pack accepts
    thermal: ThermalManagement
    insulation_rating_ohm_per_v: float  # maker's rated insulation resistance per volt
    mass_kg: float
    cycle_life: int  # full equivalent cycles to end of first life
    sources: tuple[Source, ...] = ()

    @property
    def mount(self) -> MountType:
        return self.frame.mount


@dataclass(frozen=True, slots=True)
class VehicleModel:
    """A truck model in the configuration it is swapped in."""

    id: str
    oem: str
    name: str
    body: str  # "tractor 6x4", "dump truck 8x4", "port shuttle"
    gcw_kg: float  # gross combination (or vehicle) weight
    mount: MountType
    bay_envelope: Envelope  # space for one pack position
    pack_positions: int
    max_pack_mass_kg: float  # rated mass per pack position
    accepted_frames: frozenset[str]  # frame standard ids
    accepted_locks: frozenset[LockMechanism]
    hv_min_voltage_v: float
    hv_max_voltage_v: float
    hv_connector: str
    bms_protocols: frozenset[BmsProtocol]
    peak_traction_power_kw: float
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True, slots=True)
class SlotCharger:
    """The DC charger behind one or more rack slots."""

    standard: ChargerStandard
    min_voltage_v: float
    max_voltage_v: float
    max_current_a: float
    max_power_kw: float
    count: int = 1  # slots equipped with this charger type


@dataclass(frozen=True, slots=True)
class SwapRobot:
    """The swap robot or crane: what it can grip, unlock and lift."""

    kind: str  # "chassis robot", "overhead crane", ...
    frames: frozenset[str]  # frame standard ids it can locate
    locks: frozenset[LockMechanism]
    max_pack_mass_kg: float


@dataclass(frozen=True, slots=True)
class StationDesign:
    """A station product: swap type, bays, robot, rack chargers and grid connection."""

    id: str
    name: str
    operator: str
    swap_type: SwapType
    bays: int
    robot: SwapRobot
    chargers: tuple[SlotCharger, ...]
    grid_kva: float
    power_factor: float
    aux_load_kw: float
    swap_time_s: float  # typical robot cycle for one vehicle
    sources: tuple[Source, ...] = ()

    @property
    def slots(self) -> int:
        return sum(c.count for c in self.chargers)

    @property
    def grid_cap_kw(self) -> float:
        """Active power available for charging: kVA x power factor minus auxiliary load."""
        return self.grid_kva * self.power_factor - self.aux_load_kw


@dataclass(frozen=True, slots=True)
class Adapter:
    """A certified frame or connector adapter that a station or a vehicle may carry."""

    id: str
    kind: AdapterKind
    from_id: str  # frame id or connector family the pack has
    to_id: str  # frame id or connector family the vehicle accepts
    certification: str  # certificate reference; uncertified adapters are not catalogued
    max_current_a: float | None = None  # connector adapters derate the HV path
    sources: tuple[Source, ...] = field(default=())
