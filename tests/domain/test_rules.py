"""Table-driven tests for every rule of `compatibility`, at and just beyond each boundary.

Each case changes the compatible baseline of `specimens` so that exactly the rule under test
changes outcome, then checks pass/fail, the reason and the values the rule compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from openswap.domain.assets import SafetyState
from openswap.domain.compatibility import (
    DEFAULT_RULES,
    INTERLOCK_RULES,
    CompatibilityPolicy,
    check_static,
)
from openswap.domain.specs import (
    Adapter,
    AdapterKind,
    BmsProtocol,
    ChargerStandard,
    Envelope,
    LockMechanism,
    MountType,
    SlotCharger,
    SwapType,
)
from tests.domain.specimens import BASE, DESIGN, FRAME, PACK_MODEL, VEHICLE_MODEL, Setup


def vehicle(**changes: Any) -> Setup:
    return replace(BASE, vehicle_model=replace(VEHICLE_MODEL, **changes))


def pack_model(**changes: Any) -> Setup:
    return replace(BASE, pack_model=replace(PACK_MODEL, **changes))


def frame(**changes: Any) -> Setup:
    return replace(BASE, frame=replace(FRAME, **changes))


def robot(**changes: Any) -> Setup:
    return replace(BASE, design=replace(DESIGN, robot=replace(DESIGN.robot, **changes)))


def charger(*chargers: SlotCharger) -> Setup:
    return replace(BASE, design=replace(DESIGN, chargers=chargers))


def state(**changes: Any) -> Setup:
    return replace(BASE, **changes)


FRAME_ADAPTER = Adapter("ad-frame", AdapterKind.FRAME, "qiji-75", "mtb-2", "CQC-2025-001")
FRAME_ADAPTER_BACKWARDS = Adapter("ad-back", AdapterKind.FRAME, "mtb-2", "qiji-75", "CQC-2")
CONN_ADAPTER = Adapter("ad-conn", AdapterKind.CONNECTOR, "qct1201.1-a", "gbt-dc", "CQC-2025-9")
# Ids that match the frame case but the wrong kind: must not bridge anything.
CONN_KIND_FRAME_IDS = Adapter("ad-x", AdapterKind.CONNECTOR, "qiji-75", "mtb-2", "CQC-3")
FRAME_KIND_CONN_IDS = Adapter("ad-y", AdapterKind.FRAME, "qct1201.1-a", "gbt-dc", "CQC-4")

HV_LIMIT_V = 800.0 * (1 - 0.02)  # 784 V: the vehicle maximum less the default 2 % margin
INSULATION_REQUIRED_OHM = 100.0 * 730.0  # floor x pack maximum voltage


@dataclass(frozen=True)
class Case:
    rule: str
    name: str
    setup: Setup
    passed: bool
    reason: str  # a fragment the reason must contain
    compared: dict[str, str] = field(default_factory=dict)  # exact (label: value) pairs


CASES = [
    # --- mount --------------------------------------------------------------------------
    Case("mount_type", "same mount", BASE, True, "chassis pack fits a chassis bay"),
    Case(
        "mount_type",
        "chassis pack, top-lift truck at a top-lift station",
        replace(
            vehicle(mount=MountType.TOP_LIFT),
            design=replace(DESIGN, swap_type=SwapType.TOP_LIFT),
        ),
        False,
        "chassis pack cannot go into a top_lift bay",
        {"pack mount": "chassis", "vehicle mount": "top_lift"},
    ),
    # --- frame --------------------------------------------------------------------------
    Case(
        "frame_standard",
        "direct",
        BASE,
        True,
        "frame qiji-75 is accepted",
        {"pack frame": "qiji-75", "vehicle accepts": "qiji-75"},
    ),
    Case(
        "frame_standard",
        "not accepted, no adapter",
        vehicle(accepted_frames=frozenset({"mtb-2"})),
        False,
        "no certified adapter bridges it",
        {"pack frame": "qiji-75", "vehicle accepts": "mtb-2"},
    ),
    Case(
        "frame_standard",
        "bridged by an adapter the vehicle carries",
        replace(vehicle(accepted_frames=frozenset({"mtb-2"})), vehicle_adapters=(FRAME_ADAPTER,)),
        True,
        "through certified adapter ad-frame",
        {"adapter": "ad-frame"},
    ),
    Case(
        "frame_standard",
        "bridged by an adapter the station carries",
        replace(vehicle(accepted_frames=frozenset({"mtb-2"})), station_adapters=(FRAME_ADAPTER,)),
        True,
        "through certified adapter ad-frame",
        {"adapter": "ad-frame"},
    ),
    Case(
        "frame_standard",
        "adapter pointing the wrong way",
        replace(
            vehicle(accepted_frames=frozenset({"mtb-2"})),
            vehicle_adapters=(FRAME_ADAPTER_BACKWARDS,),
        ),
        False,
        "not accepted by the bay",
    ),
    Case(
        "frame_standard",
        "connector adapter with frame ids does not bridge a frame",
        replace(
            vehicle(accepted_frames=frozenset({"mtb-2"})),
            vehicle_adapters=(CONN_KIND_FRAME_IDS,),
        ),
        False,
        "not accepted by the bay",
    ),
    # --- envelope -----------------------------------------------------------------------
    Case(
        "envelope",
        "equal dimensions",
        vehicle(bay_envelope=FRAME.envelope),
        True,
        "fits the bay",
        {"pack envelope": "2200x1300x600 mm", "bay envelope": "2200x1300x600 mm"},
    ),
    Case(
        "envelope",
        "0.1 mm too long",
        vehicle(bay_envelope=Envelope(2199.9, 1300.0, 600.0)),
        False,
        "exceeds the bay in length",
        {"bay envelope": "2199.9x1300x600 mm"},
    ),
    Case(
        "envelope",
        "too wide",
        vehicle(bay_envelope=Envelope(2200.0, 1299.9, 600.0)),
        False,
        "exceeds the bay in width",
    ),
    Case(
        "envelope",
        "too tall and too long",
        vehicle(bay_envelope=Envelope(2100.0, 1300.0, 599.0)),
        False,
        "exceeds the bay in length, height",
    ),
    # --- mass ---------------------------------------------------------------------------
    Case(
        "mass",
        "pack mass equal to the position rating",
        vehicle(max_pack_mass_kg=1000.0),
        True,
        "1000 kg pack within the 1000 kg position rating",
        {"pack mass": "1000 kg", "position rating": "1000 kg"},
    ),
    Case(
        "mass",
        "0.5 kg over",
        vehicle(max_pack_mass_kg=999.5),
        False,
        "1000 kg pack exceeds the 999.5 kg position rating",
    ),
    # --- lock at the vehicle ------------------------------------------------------------
    Case("lock_vehicle", "accepted", BASE, True, "bay locks twist_lock"),
    Case(
        "lock_vehicle",
        "bay takes other locks",
        vehicle(accepted_locks=frozenset({LockMechanism.HYDRAULIC_PIN})),
        False,
        "bay cannot lock twist_lock (it takes hydraulic_pin)",
        {"pack lock": "twist_lock", "bay locks": "hydraulic_pin"},
    ),
    # --- HV window ----------------------------------------------------------------------
    Case(
        "hv_window",
        "pack maximum exactly at the margin",
        pack_model(max_voltage_v=HV_LIMIT_V),
        True,
        "inside the vehicle window with margin",
        {
            "pack window": "500-784 V",
            "vehicle window": "450-800 V",
            "top limit with margin": "784 V",
        },
    ),
    Case(
        "hv_window",
        "pack maximum one ulp above the margin",
        pack_model(max_voltage_v=math.nextafter(HV_LIMIT_V, math.inf)),
        False,
        "above the vehicle's 784 V limit",
    ),
    Case(
        "hv_window",
        "pack maximum inside the vehicle window but inside the margin",
        pack_model(max_voltage_v=790.0),
        False,
        "pack maximum 790 V above the vehicle's 784 V limit",
    ),
    Case(
        "hv_window",
        "a wider margin moves the limit",
        replace(BASE, policy=CompatibilityPolicy(hv_margin_frac=0.1)),
        False,
        "pack maximum 730 V above the vehicle's 720 V limit",
        {"top limit with margin": "720 V"},
    ),
    Case(
        "hv_window",
        "pack minimum exactly at the vehicle minimum",
        pack_model(min_voltage_v=450.0),
        True,
        "inside the vehicle window",
    ),
    Case(
        "hv_window",
        "pack minimum below the vehicle minimum",
        pack_model(min_voltage_v=449.0),
        False,
        "pack minimum 449 V below the vehicle's 450 V minimum",
    ),
    # --- connector ----------------------------------------------------------------------
    Case("connector", "direct", BASE, True, "connector qct1201.1-a mates directly"),
    Case(
        "connector",
        "different family, no adapter",
        vehicle(hv_connector="gbt-dc"),
        False,
        "does not mate with gbt-dc and no adapter bridges them",
        {"pack connector": "qct1201.1-a", "vehicle connector": "gbt-dc"},
    ),
    Case(
        "connector",
        "bridged by a vehicle adapter",
        replace(vehicle(hv_connector="gbt-dc"), vehicle_adapters=(CONN_ADAPTER,)),
        True,
        "mates through certified adapter ad-conn",
        {"adapter": "ad-conn"},
    ),
    Case(
        "connector",
        "bridged by a station adapter",
        replace(vehicle(hv_connector="gbt-dc"), station_adapters=(CONN_ADAPTER,)),
        True,
        "mates through certified adapter ad-conn",
    ),
    Case(
        "connector",
        "frame adapter with connector ids does not bridge a connector",
        replace(vehicle(hv_connector="gbt-dc"), vehicle_adapters=(FRAME_KIND_CONN_IDS,)),
        False,
        "no adapter bridges them",
    ),
    # --- BMS ----------------------------------------------------------------------------
    Case("bms_protocol", "one in common", BASE, True, "both speak qct1201.5-2023"),
    Case(
        "bms_protocol",
        "none in common",
        vehicle(bms_protocols=frozenset({BmsProtocol.SAE_J1939})),
        False,
        "no BMS protocol in common",
        {"vehicle speaks": "sae-j1939", "pack speaks": "gbt27930-2015, qct1201.5-2023"},
    ),
    # --- discharge power ----------------------------------------------------------------
    Case(
        "discharge_power",
        "3 x 400 kW exactly the peak",
        vehicle(peak_traction_power_kw=1200.0),
        True,
        "1200 kW available for a 1200 kW peak",
        {"packs x discharge": "3 x 400 kW = 1200 kW", "vehicle peak": "1200 kW"},
    ),
    Case(
        "discharge_power",
        "peak 0.5 kW above",
        vehicle(peak_traction_power_kw=1200.5),
        False,
        "only 1200 kW for a 1200.5 kW peak",
    ),
    # --- robot --------------------------------------------------------------------------
    Case("robot_frame", "located", BASE, True, "robot locates frame qiji-75"),
    Case(
        "robot_frame",
        "robot knows other frames",
        robot(frames=frozenset({"mtb-2"})),
        False,
        "robot cannot locate frame qiji-75",
        {"pack frame": "qiji-75", "robot frames": "mtb-2"},
    ),
    Case(
        "lock_robot",
        "robot handles other locks",
        robot(locks=frozenset({LockMechanism.ELECTROMAGNETIC_LATCH})),
        False,
        "robot cannot operate twist_lock (it handles electromagnetic_latch)",
    ),
    Case(
        "robot_payload",
        "pack mass equal to the robot rating",
        robot(max_pack_mass_kg=1000.0),
        True,
        "robot rated 1000 kg lifts the 1000 kg pack",
        {"pack mass": "1000 kg", "robot rating": "1000 kg"},
    ),
    Case(
        "robot_payload",
        "1 kg over",
        robot(max_pack_mass_kg=999.0),
        False,
        "1000 kg pack exceeds the robot's 999 kg rating",
    ),
    # --- recharge -----------------------------------------------------------------------
    Case(
        "station_recharge",
        "baseline at 160 kW (current-limited)",
        BASE,
        True,
        "recharges at 160 kW in 1.07 h",
        {"recharge": "171 kWh at 160 kW = 1.07 h"},
    ),
    Case(
        "station_recharge",
        "exactly 3 h",
        pack_model(usable_energy_kwh=480.0),
        True,
        "in 3.00 h",
        {"recharge": "480 kWh at 160 kW = 3.00 h"},
    ),
    Case(
        "station_recharge",
        "just over 3 h",
        pack_model(usable_energy_kwh=480.1),
        False,
        "over the 3 h limit",
    ),
    Case(
        "station_recharge",
        "a stricter policy limit",
        replace(BASE, policy=CompatibilityPolicy(max_recharge_h=1.0)),
        False,
        "recharge takes 1.07 h, over the 1 h limit",
    ),
    Case(
        "station_recharge",
        "no charger speaks the pack's standard",
        charger(SlotCharger(ChargerStandard.CCS2, 200.0, 1000.0, 500.0, 350.0)),
        False,
        "no charger speaks gbt",
        {"pack accepts": "gbt", "station chargers": "ccs2:200-1000V/500A/350kW"},
    ),
    Case(
        "station_recharge",
        "charger voltage span too narrow",
        charger(SlotCharger(ChargerStandard.GBT, 600.0, 1000.0, 250.0, 180.0)),
        False,
        "gbt charger spans 600-1000 V, pack needs 500-730 V",
    ),
    Case(
        "station_recharge",
        "no chargers at all",
        charger(),
        False,
        "no charger speaks gbt",
        {"station chargers": "none"},
    ),
    Case(
        "station_recharge",
        "the fitting charger wins over a misfit",
        charger(
            SlotCharger(ChargerStandard.GBT, 600.0, 1000.0, 800.0, 600.0),
            SlotCharger(ChargerStandard.GBT, 200.0, 1000.0, 250.0, 180.0),
        ),
        True,
        "recharges at 160 kW",
    ),
    # --- swap type ----------------------------------------------------------------------
    Case("swap_type", "chassis station, chassis truck", BASE, True, "chassis station serves"),
    Case(
        "swap_type",
        "top-lift station, chassis truck",
        replace(BASE, design=replace(DESIGN, swap_type=SwapType.TOP_LIFT)),
        False,
        "a top_lift station cannot reach a chassis pack",
        {"vehicle mount": "chassis", "station swap type": "top_lift"},
    ),
    # --- pack state: interlocks ---------------------------------------------------------
    Case("safety_state", "ok", BASE, True, "pack safety state ok"),
    Case(
        "safety_state",
        "alarm",
        state(safety_state=SafetyState.ALARM),
        False,
        "pack is alarm: never swapped in",
        {"safety state": "alarm"},
    ),
    Case(
        "safety_state",
        "quarantined",
        state(safety_state=SafetyState.QUARANTINED),
        False,
        "pack is quarantined",
    ),
    Case(
        "soh_floor",
        "exactly at the 0.80 floor",
        state(soh=0.80),
        True,
        "SoH 0.800 at or above the 0.80 floor",
        {"SoH": "0.800", "floor": "0.80"},
    ),
    Case(
        "soh_floor",
        "one ulp below the floor",
        state(soh=math.nextafter(0.80, 0.0)),
        False,
        "below the 0.80 floor",
    ),
    Case(
        "soh_floor",
        "a stricter policy floor",
        replace(state(soh=0.85), policy=CompatibilityPolicy(min_soh=0.9)),
        False,
        "SoH 0.850 below the 0.90 floor",
    ),
    Case(
        "insulation",
        "exactly 100 ohm/V x 730 V",
        state(insulation_resistance_ohm=INSULATION_REQUIRED_OHM),
        True,
        "insulation 73.0 kohm meets 73.0 kohm (100 ohm/V x 730 V)",
        {"measured": "73000 ohm", "required": "73000 ohm"},
    ),
    Case(
        "insulation",
        "one ulp below",
        state(insulation_resistance_ohm=math.nextafter(INSULATION_REQUIRED_OHM, 0.0)),
        False,
        "is below 73.0 kohm",
    ),
    Case(
        "insulation",
        "a stricter policy (500 ohm/V)",
        replace(
            state(insulation_resistance_ohm=300_000.0),
            policy=CompatibilityPolicy(min_insulation_ohm_per_v=500.0),
        ),
        False,
        "insulation 300.0 kohm is below 365.0 kohm (500 ohm/V x 730 V)",
    ),
    Case(
        "temp_spread",
        "exactly at the 5 C limit",
        state(max_cell_temp_spread_c=5.0),
        True,
        "cell temperature spread 5.0 C within the 5 C limit",
        {"spread": "5.0 C", "limit": "5 C"},
    ),
    Case(
        "temp_spread",
        "just over",
        state(max_cell_temp_spread_c=math.nextafter(5.0, math.inf)),
        False,
        "over the 5 C limit",
    ),
    # --- energy -------------------------------------------------------------------------
    Case(
        "energy",
        "exactly the share plus reserve (384 kWh / 3 x 1.25 = 160 kWh)",
        replace(
            state(soh=1.0, need_kwh=384.0),
            pack_model=replace(PACK_MODEL, usable_energy_kwh=160.0),
            policy=CompatibilityPolicy(energy_reserve_frac=0.25),
        ),
        True,
        "160.0 kWh available covers 160.0 kWh (leg share plus 25% reserve)",
        {"available": "160.0 kWh", "needed per pack": "160.0 kWh"},
    ),
    Case(
        "energy",
        "one ulp short",
        replace(
            state(soh=1.0, need_kwh=384.0),
            pack_model=replace(PACK_MODEL, usable_energy_kwh=math.nextafter(160.0, 0.0)),
            policy=CompatibilityPolicy(energy_reserve_frac=0.25),
        ),
        False,
        "falls short of 160.0 kWh",
    ),
    Case(
        "energy",
        "half charged pack, long leg",
        state(soc=0.5, need_kwh=400.0),
        False,
        "81.2 kWh available falls short of 153.3 kWh (leg share plus 15% reserve)",
    ),
]


def _case_id(case: Case) -> str:
    return f"{case.rule}: {case.name}"


def test_every_rule_has_a_passing_and_a_failing_case() -> None:
    rules = {r.id for r in DEFAULT_RULES.vehicle_pack + DEFAULT_RULES.pack_station}
    rules |= {r.id for r in DEFAULT_RULES.vehicle_station}
    rules |= {*INTERLOCK_RULES, "energy"}
    failing = {c.rule for c in CASES if not c.passed}
    passing = {c.rule for c in CASES if c.passed}
    assert rules - failing == set()
    # Rules without an explicit passing case pass in the baseline, which is itself a case.
    assert BASE in [c.setup for c in CASES]
    assert rules - passing <= {r.rule for r in BASE.verdict().results if r.passed}


def test_baseline_is_compatible_with_every_rule_reported() -> None:
    verdict = BASE.verdict()
    assert verdict.compatible, verdict.summary()
    assert [r.rule for r in verdict.results] == [
        "mount_type",
        "frame_standard",
        "envelope",
        "mass",
        "lock_vehicle",
        "hv_window",
        "connector",
        "bms_protocol",
        "discharge_power",
        "robot_frame",
        "lock_robot",
        "robot_payload",
        "station_recharge",
        "swap_type",
        "safety_state",
        "soh_floor",
        "insulation",
        "temp_spread",
    ]


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_rule(case: Case) -> None:
    verdict = case.setup.verdict()
    result = verdict.result(case.rule)
    assert result.passed is case.passed, result.reason
    assert case.reason in result.reason
    compared = dict(result.compared)
    for label, value in case.compared.items():
        assert compared.get(label) == value, (label, result.compared)
    assert all(label and value for label, value in result.compared)
    assert result.interlock is (case.rule in INTERLOCK_RULES)
    # Each case moves exactly one rule: every other rule still passes.
    if case.passed:
        assert verdict.compatible, verdict.summary()
    else:
        assert [r.rule for r in verdict.failed] == [case.rule]
        assert not verdict.compatible
        assert f"{case.rule}: {result.reason}" in verdict.summary()


def test_energy_rule_is_skipped_without_a_need() -> None:
    verdict = BASE.verdict()
    with pytest.raises(KeyError):
        verdict.result("energy")


def test_energy_share_uses_the_vehicle_pack_count() -> None:
    # 300 kWh over 3 packs is 100 kWh each, plus 15 % = 115 kWh; over 2 packs it is 172.5 kWh.
    three = replace(BASE, soh=1.0, need_kwh=300.0).verdict().result("energy")
    two = replace(BASE, soh=1.0, need_kwh=300.0, pack_count=2).verdict().result("energy")
    assert three.passed
    assert not two.passed
    assert dict(two.compared)["needed per pack"] == "172.5 kWh"


def test_check_static_matches_the_static_part_of_check() -> None:
    setup = replace(
        vehicle(accepted_frames=frozenset({"mtb-2"})), station_adapters=(FRAME_ADAPTER,)
    )
    static = check_static(setup.vehicle_model, PACK_MODEL, DESIGN, (FRAME_ADAPTER,), DEFAULT_RULES)
    assert static == setup.verdict().results[: len(static)]
