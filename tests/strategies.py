"""Hypothesis strategies for the domain: frames, pack and vehicle models, station designs,
adapters, packs with random state, policies and small catalogs of all of them.

Vocabularies (frame ids, connector families) are kept small on purpose, so that random triples
are compatible often enough for properties about compatible results to be exercised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar

from hypothesis import strategies as st

from openswap.domain.assets import Pack, SafetyState
from openswap.domain.compatibility import (
    INSULATION_FLOOR_OHM_PER_V,
    SOH_FLOOR,
    TEMP_SPREAD_CEILING_C,
    CompatibilityPolicy,
)
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
    StationDesign,
    SwapRobot,
    SwapType,
    ThermalManagement,
    VehicleModel,
)

T = TypeVar("T")

FRAME_IDS = ("frame-a", "frame-b", "frame-c")
CONNECTORS = ("conn-1", "conn-2", "conn-3")
MAKERS = ("CATL", "BYD", "EVE", "CALB")
OEMS = ("FAW", "SANY", "XCMG", "Geely")
# Two mounts, not three: a third would make most random triples fail on mount alone.
MOUNTS = (MountType.CHASSIS, MountType.TOP_LIFT)
SWAP_TYPES = (SwapType.CHASSIS, SwapType.TOP_LIFT)

# Cell voltages (min, nominal, max) per chemistry, V.
CELL_VOLTAGES = {
    Chemistry.LFP: (2.5, 3.2, 3.65),
    Chemistry.LMFP: (2.5, 3.7, 4.3),
    Chemistry.NMC: (3.0, 3.65, 4.2),
    Chemistry.SODIUM_ION: (1.5, 3.0, 4.0),
}


def usually(draw: st.DrawFn) -> bool:
    """True seven times in eight (shrinking towards True): a field that usually fits."""
    return draw(st.integers(0, 7)) != 7


def nonempty_subsets(values: tuple[T, ...]) -> st.SearchStrategy[frozenset[T]]:
    return st.frozensets(st.sampled_from(values), min_size=1, max_size=len(values))


def envelopes() -> st.SearchStrategy[Envelope]:
    return st.builds(
        Envelope,
        st.sampled_from((1800.0, 2000.0, 2200.0)),
        st.sampled_from((1100.0, 1200.0, 1300.0)),
        st.sampled_from((500.0, 600.0, 700.0)),
    )


@st.composite
def frame_standards(draw: st.DrawFn, ident: str | None = None) -> FrameStandard:
    fid = ident if ident is not None else draw(st.sampled_from(FRAME_IDS))
    return FrameStandard(
        id=fid,
        name=f"frame {fid}",
        envelope=draw(envelopes()),
        max_mass_kg=draw(st.sampled_from((1200.0, 2000.0, 3500.0))),
        mount=draw(st.sampled_from(MOUNTS)),
        lock=draw(st.sampled_from((LockMechanism.TWIST_LOCK, LockMechanism.HYDRAULIC_PIN))),
        interface_id=f"{fid}-if",
    )


@st.composite
def pack_models(draw: st.DrawFn, frames: tuple[FrameStandard, ...], ident: str) -> PackModel:
    chemistry = draw(st.sampled_from(tuple(CELL_VOLTAGES)))
    vmin, vnom, vmax = CELL_VOLTAGES[chemistry]
    series = draw(st.integers(150, 260))
    usable_kwh = float(draw(st.integers(100, 600)))
    return PackModel(
        id=ident,
        maker=draw(st.sampled_from(MAKERS)),
        name=f"pack {ident}",
        frame=draw(st.sampled_from(frames)),
        chemistry=chemistry,
        cell_format="prismatic",
        cells_in_series=series,
        cells_in_parallel=draw(st.integers(1, 3)),
        nominal_voltage_v=round(series * vnom, 1),
        min_voltage_v=round(series * vmin, 1),
        max_voltage_v=round(series * vmax, 1),
        usable_energy_kwh=usable_kwh,
        max_discharge_power_kw=float(draw(st.integers(150, 800))),
        # C-rate 0.25 to 2: some packs cannot be refilled within the policy's hours.
        max_charge_power_kw=usable_kwh * draw(st.sampled_from((0.5, 1.0, 2.0, 0.25))),
        hv_connector=draw(st.sampled_from(CONNECTORS)),
        bms_protocols=draw(nonempty_subsets(tuple(BmsProtocol))),
        charge_standards=draw(nonempty_subsets(tuple(ChargerStandard))),
        thermal=draw(st.sampled_from(tuple(ThermalManagement))),
        insulation_rating_ohm_per_v=float(draw(st.integers(100, 1000))),
        mass_kg=float(draw(st.integers(12, 70)) * 50),
        cycle_life=draw(st.integers(3000, 15000)),
    )


def _round_down(x: float, step: float) -> float:
    return math.floor(x / step) * step


def _round_up(x: float, step: float) -> float:
    return math.ceil(x / step) * step


@st.composite
def vehicle_models(draw: st.DrawFn, ident: str, like: PackModel | None = None) -> VehicleModel:
    """A vehicle model; with `like`, each field usually fits that pack model (one in eight is
    drawn freely), so that random catalogs hold compatible and incompatible pairs alike."""
    fit = like is not None and usually(draw)

    def fits() -> bool:
        return like is not None and usually(draw)

    positions = draw(st.integers(1, 3))
    bay = draw(envelopes())
    if like is not None and fits():
        e = like.frame.envelope
        bay = Envelope(
            max(bay.length_mm, e.length_mm),
            max(bay.width_mm, e.width_mm),
            max(bay.height_mm, e.height_mm),
        )
    hv_min = draw(st.sampled_from((300.0, 400.0, 500.0)))
    hv_max = draw(st.sampled_from((750.0, 900.0, 1000.0, 1250.0)))
    if like is not None and fits():
        hv_min = _round_down(like.min_voltage_v, 50.0) - 50.0 * draw(st.integers(0, 2))
        # Room for margins up to 10 %; a policy with a wider margin may still refuse.
        hv_max = _round_up(like.max_voltage_v / 0.9, 50.0) + 50.0 * draw(st.integers(0, 2))
    return VehicleModel(
        id=ident,
        oem=draw(st.sampled_from(OEMS)),
        name=f"truck {ident}",
        body="tractor 6x4",
        gcw_kg=49000.0,
        mount=like.frame.mount if like and fit else draw(st.sampled_from(MOUNTS)),
        bay_envelope=bay,
        pack_positions=positions,
        max_pack_mass_kg=(
            like.mass_kg + 50.0 * draw(st.integers(0, 10))
            if like and fits()
            else float(draw(st.integers(12, 70)) * 50)
        ),
        accepted_frames=draw(nonempty_subsets(FRAME_IDS))
        | ({like.frame.id} if like and fits() else set()),
        accepted_locks=draw(nonempty_subsets(tuple(LockMechanism)))
        | ({like.frame.lock} if like and fits() else set()),
        hv_min_voltage_v=hv_min,
        hv_max_voltage_v=hv_max,
        hv_connector=like.hv_connector if like and fits() else draw(st.sampled_from(CONNECTORS)),
        bms_protocols=draw(nonempty_subsets(tuple(BmsProtocol)))
        | ({min(like.bms_protocols)} if like and fits() else set()),
        peak_traction_power_kw=(
            like.max_discharge_power_kw * positions * draw(st.sampled_from((1.0, 0.8, 0.5)))
            if like and fits()
            else float(draw(st.integers(300, 1200)))
        ),
    )


def slot_chargers() -> st.SearchStrategy[SlotCharger]:
    return st.builds(
        SlotCharger,
        standard=st.sampled_from(tuple(ChargerStandard)),
        min_voltage_v=st.sampled_from((150.0, 200.0, 400.0)),
        max_voltage_v=st.sampled_from((750.0, 1000.0, 1500.0)),
        max_current_a=st.sampled_from((200.0, 400.0, 800.0)),
        max_power_kw=st.sampled_from((120.0, 180.0, 360.0, 600.0)),
        count=st.integers(1, 20),
    )


@st.composite
def station_designs(draw: st.DrawFn, ident: str, like: PackModel | None = None) -> StationDesign:
    """A station design; with `like`, each field usually serves that pack model."""

    def fits() -> bool:
        return like is not None and usually(draw)

    chargers = list(draw(st.lists(slot_chargers(), min_size=0, max_size=2)))
    if like is not None and fits():
        chargers.append(
            SlotCharger(
                standard=min(like.charge_standards),
                min_voltage_v=_round_down(like.min_voltage_v, 50.0),
                max_voltage_v=_round_up(like.max_voltage_v, 50.0),
                max_current_a=draw(st.sampled_from((400.0, 800.0, 1000.0))),
                max_power_kw=draw(st.sampled_from((180.0, 360.0, 600.0))),
                count=draw(st.integers(1, 20)),
            )
        )
    return StationDesign(
        id=ident,
        name=f"station design {ident}",
        operator="op",
        swap_type=(
            SwapType(str(like.frame.mount))
            if like and fits()
            else draw(st.sampled_from(SWAP_TYPES))
        ),
        bays=draw(st.integers(1, 3)),
        robot=SwapRobot(
            kind="chassis robot",
            frames=draw(nonempty_subsets(FRAME_IDS))
            | ({like.frame.id} if like and fits() else set()),
            locks=draw(nonempty_subsets(tuple(LockMechanism)))
            | ({like.frame.lock} if like and fits() else set()),
            max_pack_mass_kg=(
                like.mass_kg + 50.0 * draw(st.integers(0, 10))
                if like and fits()
                else float(draw(st.integers(12, 70)) * 50)
            ),
        ),
        chargers=tuple(chargers),
        grid_kva=4000.0,
        power_factor=0.95,
        aux_load_kw=300.0,
        swap_time_s=300.0,
    )


@st.composite
def adapters(draw: st.DrawFn, ident: str, like: PackModel | None = None) -> Adapter:
    """A frame or connector adapter; with `like`, it usually starts from that pack model's
    frame or connector, so that it bridges something a vehicle may lack."""
    kind = draw(st.sampled_from(tuple(AdapterKind)))
    vocab = FRAME_IDS if kind is AdapterKind.FRAME else CONNECTORS
    own = (
        None if like is None else like.frame.id if kind is AdapterKind.FRAME else like.hv_connector
    )
    return Adapter(
        id=ident,
        kind=kind,
        from_id=own if own is not None and usually(draw) else draw(st.sampled_from(vocab)),
        to_id=draw(st.sampled_from(vocab)),
        certification=f"cert-{ident}",
    )


@st.composite
def packs(draw: st.DrawFn, model: PackModel, serial: str) -> Pack:
    """A pack with live state; each reading is usually healthy and otherwise drawn across the
    default interlock limits, so both safe and unsafe packs come up often."""
    healthy = usually
    insulation_per_v = (
        draw(st.floats(100.0, 1000.0)) if healthy(draw) else draw(st.floats(20.0, 150.0))
    )
    return Pack(
        serial=serial,
        model=model,
        owner="owner",
        soc=draw(st.floats(0.0, 1.0)),
        soh=draw(st.floats(0.8, 1.0)) if healthy(draw) else draw(st.floats(0.5, 0.85)),
        cycle_count=draw(st.integers(0, 15000)),
        safety_state=(
            SafetyState.OK if healthy(draw) else draw(st.sampled_from(tuple(SafetyState)))
        ),
        insulation_resistance_ohm=insulation_per_v * model.max_voltage_v,
        max_cell_temp_spread_c=(
            draw(st.floats(0.0, 5.0)) if healthy(draw) else draw(st.floats(4.0, 10.0))
        ),
    )


def policies() -> st.SearchStrategy[CompatibilityPolicy]:
    """Valid policies: safety limits anywhere between their floor and a stricter value."""
    return st.builds(
        CompatibilityPolicy,
        min_insulation_ohm_per_v=st.floats(INSULATION_FLOOR_OHM_PER_V, 500.0),
        min_soh=st.floats(SOH_FLOOR, 0.95),
        max_cell_temp_spread_c=st.floats(0.5, TEMP_SPREAD_CEILING_C),
        hv_margin_frac=st.floats(0.0, 0.1),
        energy_reserve_frac=st.floats(0.0, 0.3),
        max_recharge_h=st.floats(0.5, 5.0),
    )


@dataclass(frozen=True, slots=True)
class MiniCatalog:
    """A small, internally consistent set of specifications with unique ids."""

    frames: tuple[FrameStandard, ...]
    pack_models: tuple[PackModel, ...]
    vehicle_models: tuple[VehicleModel, ...]
    station_designs: tuple[StationDesign, ...]
    adapters: tuple[Adapter, ...]


@st.composite
def mini_catalogs(
    draw: st.DrawFn, max_packs: int = 6, max_vehicles: int = 4, max_stations: int = 3
) -> MiniCatalog:
    n_frames = draw(st.integers(1, len(FRAME_IDS)))
    frames = tuple(draw(frame_standards(FRAME_IDS[i])) for i in range(n_frames))
    n_packs = draw(st.integers(1, max_packs))
    n_vehicles = draw(st.integers(1, max_vehicles))
    n_stations = draw(st.integers(1, max_stations))
    n_adapters = draw(st.integers(0, 3))
    models = tuple(draw(pack_models(frames, f"pm-{i}")) for i in range(n_packs))
    return MiniCatalog(
        frames=frames,
        pack_models=models,
        vehicle_models=tuple(
            draw(vehicle_models(f"vm-{i}", draw(st.sampled_from(models))))
            for i in range(n_vehicles)
        ),
        station_designs=tuple(
            draw(station_designs(f"sd-{i}", draw(st.sampled_from(models))))
            for i in range(n_stations)
        ),
        adapters=tuple(
            draw(adapters(f"ad-{i}", draw(st.sampled_from(models)))) for i in range(n_adapters)
        ),
    )
