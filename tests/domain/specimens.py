"""A compatible baseline (frame, pack model, vehicle model, station design, pack state) built in
Python, close to a CATL QIJI #75 chassis block in a 3-block tractor. Tests change one thing at a
time with `dataclasses.replace` and look at what the verdict says.

Baseline numbers: pack 500-730 V, vehicle 450-800 V (784 V with the 2 % margin); pack 1000 kg in
a 1100 kg position and under a 1200 kg robot; 3 x 400 kW for a 900 kW peak; a GB/T charger at
min(180 kW, 250 A x 640 V = 160 kW, 200 kW) = 160 kW refills 171 kWh in 1.07 h.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from openswap.domain.assets import Pack, SafetyState, Station, Vehicle
from openswap.domain.compatibility import (
    DEFAULT_POLICY,
    CompatibilityPolicy,
    Verdict,
    build_rules,
    check,
)
from openswap.domain.specs import (
    Adapter,
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

FRAME = FrameStandard(
    id="qiji-75",
    name="QIJI #75 chassis block",
    envelope=Envelope(2200.0, 1300.0, 600.0),
    max_mass_kg=1200.0,
    mount=MountType.CHASSIS,
    lock=LockMechanism.TWIST_LOCK,
    interface_id="qiji-75-if",
)

PACK_MODEL = PackModel(
    id="qiji-171",
    maker="CATL",
    name="QIJI 171 kWh",
    frame=FRAME,
    chemistry=Chemistry.LFP,
    cell_format="CTP",
    cells_in_series=200,
    cells_in_parallel=1,
    nominal_voltage_v=640.0,
    min_voltage_v=500.0,
    max_voltage_v=730.0,
    usable_energy_kwh=171.0,
    max_discharge_power_kw=400.0,
    max_charge_power_kw=200.0,
    hv_connector="qct1201.1-a",
    bms_protocols=frozenset({BmsProtocol.QCT1201_5, BmsProtocol.GBT27930_2015}),
    charge_standards=frozenset({ChargerStandard.GBT}),
    thermal=ThermalManagement.LIQUID,
    insulation_rating_ohm_per_v=500.0,
    mass_kg=1000.0,
    cycle_life=15000,
)

VEHICLE_MODEL = VehicleModel(
    id="tractor-6x4",
    oem="FAW",
    name="J7 EV swap tractor",
    body="tractor 6x4",
    gcw_kg=49000.0,
    mount=MountType.CHASSIS,
    bay_envelope=Envelope(2300.0, 1400.0, 650.0),
    pack_positions=3,
    max_pack_mass_kg=1100.0,
    accepted_frames=frozenset({"qiji-75"}),
    accepted_locks=frozenset({LockMechanism.TWIST_LOCK}),
    hv_min_voltage_v=450.0,
    hv_max_voltage_v=800.0,
    hv_connector="qct1201.1-a",
    bms_protocols=frozenset({BmsProtocol.QCT1201_5}),
    peak_traction_power_kw=900.0,
)

DESIGN = StationDesign(
    id="qiji-station",
    name="QIJI chassis station",
    operator="QIJI",
    swap_type=SwapType.CHASSIS,
    bays=1,
    robot=SwapRobot(
        kind="chassis robot",
        frames=frozenset({"qiji-75"}),
        locks=frozenset({LockMechanism.TWIST_LOCK}),
        max_pack_mass_kg=1200.0,
    ),
    chargers=(SlotCharger(ChargerStandard.GBT, 200.0, 1000.0, 250.0, 180.0, count=18),),
    grid_kva=4000.0,
    power_factor=0.95,
    aux_load_kw=300.0,
    swap_time_s=300.0,
)


@dataclass(frozen=True)
class Setup:
    """Everything `check` reads; `frame` overrides the pack model's frame when built."""

    frame: FrameStandard = FRAME
    pack_model: PackModel = PACK_MODEL
    vehicle_model: VehicleModel = VEHICLE_MODEL
    design: StationDesign = DESIGN
    soc: float = 1.0
    soh: float = 0.95
    cycle_count: int = 1000
    safety_state: SafetyState = SafetyState.OK
    insulation_resistance_ohm: float = 365_000.0  # 500 ohm/V x 730 V
    max_cell_temp_spread_c: float = 2.0
    pack_count: int = 3
    vehicle_adapters: tuple[Adapter, ...] = ()
    station_adapters: tuple[Adapter, ...] = ()
    need_kwh: float | None = None
    policy: CompatibilityPolicy = field(default=DEFAULT_POLICY)

    def pack(self, serial: str = "P-0001") -> Pack:
        return Pack(
            serial=serial,
            model=replace(self.pack_model, frame=self.frame),
            owner="battery-owner",
            soc=self.soc,
            soh=self.soh,
            cycle_count=self.cycle_count,
            safety_state=self.safety_state,
            insulation_resistance_ohm=self.insulation_resistance_ohm,
            max_cell_temp_spread_c=self.max_cell_temp_spread_c,
        )

    def vehicle(self) -> Vehicle:
        return Vehicle("V-1", self.vehicle_model, "fleet-1", self.pack_count, self.vehicle_adapters)

    def station(self) -> Station:
        return Station(
            "S-1", self.design, "Changle N", (self.pack_model.id,), self.station_adapters
        )

    def verdict(self) -> Verdict:
        return check(
            self.vehicle(), self.pack(), self.station(), self.need_kwh, build_rules(self.policy)
        )


BASE = Setup()
