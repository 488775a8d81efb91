"""The explainable compatibility engine: may this pack go into this vehicle at this station?

Every rule is written once, as a predicate over two *keys* (the small projections of the
specifications it reads) plus a one-line explanation. `check` evaluates every rule on one
(vehicle, pack, station) triple; `coverage` evaluates the same predicates on distinct key pairs
across a whole catalog. Rules come in four scopes:

- vehicle x pack    (mount, frame, envelope, mass, lock, HV window, connector, BMS, power)
- pack x station    (robot frame, robot lock, robot payload, rack charging)
- vehicle x station (swap type)
- pack state        (the safety interlocks and the energy for the next leg)

Safety interlocks compare measured state against `CompatibilityPolicy`, whose limits can be made
stricter than the regulatory floors but never looser: there is no override.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from openswap.domain.assets import Pack, SafetyState, Station, Vehicle
from openswap.domain.errors import SafetyPolicyError
from openswap.domain.specs import (
    SWAP_TYPE_SERVES_MOUNT,
    Adapter,
    AdapterKind,
    ChargerStandard,
    Envelope,
    LockMechanism,
    MountType,
    PackModel,
    StationDesign,
    SwapType,
    VehicleModel,
)

# Regulatory floors. A policy may tighten these, never loosen them.
INSULATION_FLOOR_OHM_PER_V = 100.0  # GB 18384-2020 / ISO 6469-3 / UN R100, DC circuits
SOH_FLOOR = 0.70  # traction end of life is 70-80 % SoH (MDPI Batteries 2022, 8(10), 164)
TEMP_SPREAD_CEILING_C = 8.0  # estimate: upper end of the seeds' 5-8 C edge-to-centre spread

Compared = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class CompatibilityPolicy:
    """Tunable limits. Safety limits are validated against the regulatory floors on creation."""

    min_insulation_ohm_per_v: float = INSULATION_FLOOR_OHM_PER_V
    min_soh: float = 0.80  # first-life end of life (domain facts section 8: eol_soh)
    max_cell_temp_spread_c: float = 5.0  # design target 3-5 C (domain facts section 4)
    hv_margin_frac: float = 0.02  # headroom below the vehicle's maximum input voltage
    energy_reserve_frac: float = 0.15  # energy kept in reserve on top of the leg's need
    max_recharge_h: float = 3.0  # a rack charger slower than this cannot keep the pack in service

    def __post_init__(self) -> None:
        # Written as `not >=` so that NaN, which compares false, is refused too.
        if not self.min_insulation_ohm_per_v >= INSULATION_FLOOR_OHM_PER_V:
            raise SafetyPolicyError(
                f"min_insulation_ohm_per_v={self.min_insulation_ohm_per_v:g} is below the "
                f"GB 18384-2020 floor of {INSULATION_FLOOR_OHM_PER_V:g} ohm/V; "
                "safety interlocks can be tightened, never loosened"
            )
        if not SOH_FLOOR <= self.min_soh <= 1.0:
            raise SafetyPolicyError(
                f"min_soh={self.min_soh:g} must lie in [{SOH_FLOOR:g}, 1]; "
                "safety interlocks can be tightened, never loosened"
            )
        if not 0.0 < self.max_cell_temp_spread_c <= TEMP_SPREAD_CEILING_C:
            raise SafetyPolicyError(
                f"max_cell_temp_spread_c={self.max_cell_temp_spread_c:g} must lie in "
                f"(0, {TEMP_SPREAD_CEILING_C:g}] C; safety interlocks can be tightened, "
                "never loosened"
            )
        if not 0.0 <= self.hv_margin_frac < 0.5:
            raise SafetyPolicyError(f"hv_margin_frac={self.hv_margin_frac:g} must lie in [0, 0.5)")
        if not 0.0 <= self.energy_reserve_frac < 1.0:
            raise SafetyPolicyError(
                f"energy_reserve_frac={self.energy_reserve_frac:g} must lie in [0, 1)"
            )
        if not self.max_recharge_h > 0.0:
            raise SafetyPolicyError(f"max_recharge_h={self.max_recharge_h:g} must be positive")


DEFAULT_POLICY = CompatibilityPolicy()


@dataclass(frozen=True, slots=True)
class RuleResult:
    """The outcome of one rule: pass or fail, a one-line reason and the values compared."""

    rule: str
    passed: bool
    reason: str
    compared: Compared
    interlock: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    """One result per rule, in rule order. Compatible only when every rule passed."""

    results: tuple[RuleResult, ...]

    @property
    def compatible(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    def result(self, rule: str) -> RuleResult:
        for r in self.results:
            if r.rule == rule:
                return r
        raise KeyError(rule)

    def summary(self) -> str:
        """One line: 'compatible' or the failed rules and their reasons."""
        if self.compatible:
            return "compatible"
        return "incompatible: " + "; ".join(f"{r.rule}: {r.reason}" for r in self.failed)


def _ids(values: frozenset[str] | frozenset[LockMechanism] | frozenset[ChargerStandard]) -> str:
    return ", ".join(sorted(str(v) for v in values)) or "none"


# Keys are rule-specific hashable projections; the protocols leave their types open (Any) so
# that each rule can declare its own precise key types.


class VehiclePackRule(Protocol):
    """A rule over a vehicle model (with the adapters at hand) and a pack model."""

    id: str
    title: str
    source: str

    def vehicle_key(self, vm: VehicleModel, adapters: tuple[Adapter, ...]) -> Any: ...
    def pack_key(self, pm: PackModel) -> Any: ...
    def passes(self, vk: Any, pk: Any) -> bool: ...
    def explain(self, vk: Any, pk: Any, passed: bool) -> tuple[str, Compared]: ...


class PackStationRule(Protocol):
    """A rule over a pack model and a station design."""

    id: str
    title: str
    source: str

    def pack_key(self, pm: PackModel) -> Any: ...
    def station_key(self, sd: StationDesign) -> Any: ...
    def passes(self, pk: Any, sk: Any) -> bool: ...
    def explain(self, pk: Any, sk: Any, passed: bool) -> tuple[str, Compared]: ...


# --- vehicle x pack --------------------------------------------------------------------------


class MountRule:
    id = "mount_type"
    title = "Mount type"
    source = "QC/T 1201.3-2023 (top-lift); CATL QIJI chassis block (catl.com/en/news/6107)"

    def vehicle_key(self, vm: VehicleModel, adapters: tuple[Adapter, ...]) -> MountType:
        return vm.mount

    def pack_key(self, pm: PackModel) -> MountType:
        return pm.frame.mount

    def passes(self, vk: MountType, pk: MountType) -> bool:
        return vk == pk

    def explain(self, vk: MountType, pk: MountType, passed: bool) -> tuple[str, Compared]:
        reason = f"{pk} pack fits a {vk} bay" if passed else f"{pk} pack cannot go into a {vk} bay"
        return reason, (("pack mount", str(pk)), ("vehicle mount", str(vk)))


FrameVehicleKey = tuple[frozenset[str], tuple[tuple[str, str], ...]]


class FrameRule:
    id = "frame_standard"
    title = "Frame standard (direct or via certified adapter)"
    source = "GB/T 40032.2-2025; QC/T 1201.3-2023; adapters must carry a certification"

    def vehicle_key(self, vm: VehicleModel, adapters: tuple[Adapter, ...]) -> FrameVehicleKey:
        bridges = tuple(
            sorted(
                (a.from_id, a.id)
                for a in adapters
                if a.kind is AdapterKind.FRAME and a.to_id in vm.accepted_frames
            )
        )
        return vm.accepted_frames, bridges

    def pack_key(self, pm: PackModel) -> str:
        return pm.frame.id

    def passes(self, vk: FrameVehicleKey, pk: str) -> bool:
        return pk in vk[0] or any(frm == pk for frm, _ in vk[1])

    def explain(self, vk: FrameVehicleKey, pk: str, passed: bool) -> tuple[str, Compared]:
        compared: Compared = (("pack frame", pk), ("vehicle accepts", _ids(vk[0])))
        if pk in vk[0]:
            return f"frame {pk} is accepted by the vehicle bay", compared
        via = [aid for frm, aid in vk[1] if frm == pk]
        if via:
            return f"frame {pk} fits through certified adapter {via[0]}", (
                *compared,
                ("adapter", via[0]),
            )
        return (
            f"frame {pk} is not accepted by the bay and no certified adapter bridges it",
            compared,
        )


class EnvelopeRule:
    id = "envelope"
    title = "Pack envelope fits the bay"
    source = "GB 1589-2016 vehicle dimensions; maker bay drawings"

    def vehicle_key(self, vm: VehicleModel, adapters: tuple[Adapter, ...]) -> Envelope:
        return vm.bay_envelope

    def pack_key(self, pm: PackModel) -> Envelope:
        return pm.frame.envelope

    def passes(self, vk: Envelope, pk: Envelope) -> bool:
        return pk.fits_in(vk)

    def explain(self, vk: Envelope, pk: Envelope, passed: bool) -> tuple[str, Compared]:
        compared = (("pack envelope", str(pk)), ("bay envelope", str(vk)))
        if passed:
            return "pack envelope fits the bay", compared
        over = [
            name
            for name, p, b in (
                ("length", pk.length_mm, vk.length_mm),
                ("width", pk.width_mm, vk.width_mm),
                ("height", pk.height_mm, vk.height_mm),
            )
            if p > b
        ]
        return f"pack exceeds the bay in {', '.join(over)}", compared


class MassRule:
    id = "mass"
    title = "Pack mass within the position rating"
    source = "vehicle maker's rated mass per pack position; GB 1589-2016 axle loads"

    def vehicle_key(self, vm: VehicleModel, adapters: tuple[Adapter, ...]) -> float:
        return vm.max_pack_mass_kg

    def pack_key(self, pm: PackModel) -> float:
        return pm.mass_kg

    def passes(self, vk: float, pk: float) -> bool:
        return pk <= vk

    def explain(self, vk: float, pk: float, passed: bool) -> tuple[str, Compared]:
        compared = (("pack mass", f"{pk:g} kg"), ("position rating", f"{vk:g} kg"))
        if passed:
            return f"{pk:g} kg pack within the {vk:g} kg position rating", compared
        return f"{pk:g} kg pack exceeds the {vk:g} kg position rating", compared


class VehicleLockRule:
    id = "lock_vehicle"
    title = "Lock mechanism at the vehicle bay"
    source = "QC/T 1201.3-2023 swap mechanism; GB/T 40032.2-2025 locking"

    def vehicle_key(
        self, vm: VehicleModel, adapters: tuple[Adapter, ...]
    ) -> frozenset[LockMechanism]:
        return vm.accepted_locks

    def pack_key(self, pm: PackModel) -> LockMechanism:
        return pm.frame.lock

    def passes(self, vk: frozenset[LockMechanism], pk: LockMechanism) -> bool:
        return pk in vk

    def explain(
        self, vk: frozenset[LockMechanism], pk: LockMechanism, passed: bool
    ) -> tuple[str, Compared]:
        compared = (("pack lock", str(pk)), ("bay locks", _ids(vk)))
        if passed:
            return f"bay locks {pk}", compared
        return f"bay cannot lock {pk} (it takes {_ids(vk)})", compared


HvVehicleKey = tuple[float, float, float]


class HvWindowRule:
    """The pack's whole voltage window must sit inside the vehicle's input window, with margin.

    Over-voltage at the top end stresses the inverter (the hazard), so the margin applies there;
    a pack below the vehicle's minimum would trip undervoltage cut-off mid-leg.
    """

    id = "hv_window"
    title = "HV window inside the vehicle input window, with margin"
    source = "GB 18384-2020 voltage class B; vehicle maker's inverter input range"

    def __init__(self, margin_frac: float) -> None:
        self.margin_frac = margin_frac

    def vehicle_key(self, vm: VehicleModel, adapters: tuple[Adapter, ...]) -> HvVehicleKey:
        return (
            vm.hv_min_voltage_v,
            vm.hv_max_voltage_v,
            vm.hv_max_voltage_v * (1 - self.margin_frac),
        )

    def pack_key(self, pm: PackModel) -> tuple[float, float]:
        return pm.min_voltage_v, pm.max_voltage_v

    def passes(self, vk: HvVehicleKey, pk: tuple[float, float]) -> bool:
        return pk[0] >= vk[0] and pk[1] <= vk[2]

    def explain(
        self, vk: HvVehicleKey, pk: tuple[float, float], passed: bool
    ) -> tuple[str, Compared]:
        compared = (
            ("pack window", f"{pk[0]:g}-{pk[1]:g} V"),
            ("vehicle window", f"{vk[0]:g}-{vk[1]:g} V"),
            ("top limit with margin", f"{vk[2]:g} V"),
        )
        if passed:
            return "pack voltage window inside the vehicle window with margin", compared
        if pk[1] > vk[2]:
            return f"pack maximum {pk[1]:g} V above the vehicle's {vk[2]:g} V limit", compared
        return f"pack minimum {pk[0]:g} V below the vehicle's {vk[0]:g} V minimum", compared


ConnectorVehicleKey = tuple[str, tuple[tuple[str, str], ...]]


class ConnectorRule:
    id = "connector"
    title = "HV connector mating (direct or via certified adapter)"
    source = "QC/T 1201.1-2023 swap coupler; GB/T 37133-2025 HV connectors"

    def vehicle_key(self, vm: VehicleModel, adapters: tuple[Adapter, ...]) -> ConnectorVehicleKey:
        bridges = tuple(
            sorted(
                (a.from_id, a.id)
                for a in adapters
                if a.kind is AdapterKind.CONNECTOR and a.to_id == vm.hv_connector
            )
        )
        return vm.hv_connector, bridges

    def pack_key(self, pm: PackModel) -> str:
        return pm.hv_connector

    def passes(self, vk: ConnectorVehicleKey, pk: str) -> bool:
        return pk == vk[0] or any(frm == pk for frm, _ in vk[1])

    def explain(self, vk: ConnectorVehicleKey, pk: str, passed: bool) -> tuple[str, Compared]:
        compared: Compared = (("pack connector", pk), ("vehicle connector", vk[0]))
        if pk == vk[0]:
            return f"connector {pk} mates directly", compared
        via = [aid for frm, aid in vk[1] if frm == pk]
        if via:
            return f"connector {pk} mates through certified adapter {via[0]}", (
                *compared,
                ("adapter", via[0]),
            )
        return f"connector {pk} does not mate with {vk[0]} and no adapter bridges them", compared


class BmsRule:
    id = "bms_protocol"
    title = "A BMS protocol in common"
    source = "GB/T 27930-2015/2023; QC/T 1201.5-2023 vehicle-battery communication"

    def vehicle_key(self, vm: VehicleModel, adapters: tuple[Adapter, ...]) -> frozenset[str]:
        return frozenset(str(p) for p in vm.bms_protocols)

    def pack_key(self, pm: PackModel) -> frozenset[str]:
        return frozenset(str(p) for p in pm.bms_protocols)

    def passes(self, vk: frozenset[str], pk: frozenset[str]) -> bool:
        return not vk.isdisjoint(pk)

    def explain(self, vk: frozenset[str], pk: frozenset[str], passed: bool) -> tuple[str, Compared]:
        compared = (("pack speaks", _ids(pk)), ("vehicle speaks", _ids(vk)))
        if passed:
            return f"both speak {_ids(vk & pk)}", compared
        return "no BMS protocol in common", compared


class PowerRule:
    """All positions together must deliver the vehicle's peak traction power continuously."""

    id = "discharge_power"
    title = "Discharge power covers the vehicle's peak"
    source = "pack maker's continuous discharge rating; vehicle maker's peak traction power"

    def vehicle_key(self, vm: VehicleModel, adapters: tuple[Adapter, ...]) -> tuple[float, int]:
        return vm.peak_traction_power_kw, vm.pack_positions

    def pack_key(self, pm: PackModel) -> float:
        return pm.max_discharge_power_kw

    def passes(self, vk: tuple[float, int], pk: float) -> bool:
        return pk * vk[1] >= vk[0]

    def explain(self, vk: tuple[float, int], pk: float, passed: bool) -> tuple[str, Compared]:
        total = pk * vk[1]
        compared = (
            ("packs x discharge", f"{vk[1]} x {pk:g} kW = {total:g} kW"),
            ("vehicle peak", f"{vk[0]:g} kW"),
        )
        if passed:
            return f"{total:g} kW available for a {vk[0]:g} kW peak", compared
        return f"only {total:g} kW for a {vk[0]:g} kW peak", compared


# --- pack x station --------------------------------------------------------------------------


class RobotFrameRule:
    id = "robot_frame"
    title = "Station robot locates the pack frame"
    source = "GB/T 29772-2024 swap station; NB/T 33006-2024 swap equipment"

    def pack_key(self, pm: PackModel) -> str:
        return pm.frame.id

    def station_key(self, sd: StationDesign) -> frozenset[str]:
        return sd.robot.frames

    def passes(self, pk: str, sk: frozenset[str]) -> bool:
        return pk in sk

    def explain(self, pk: str, sk: frozenset[str], passed: bool) -> tuple[str, Compared]:
        compared = (("pack frame", pk), ("robot frames", _ids(sk)))
        if passed:
            return f"robot locates frame {pk}", compared
        return f"robot cannot locate frame {pk}", compared


class RobotLockRule:
    id = "lock_robot"
    title = "Station robot operates the pack lock"
    source = "NB/T 33006-2024 swap equipment; QC/T 1201.3-2023"

    def pack_key(self, pm: PackModel) -> LockMechanism:
        return pm.frame.lock

    def station_key(self, sd: StationDesign) -> frozenset[LockMechanism]:
        return sd.robot.locks

    def passes(self, pk: LockMechanism, sk: frozenset[LockMechanism]) -> bool:
        return pk in sk

    def explain(
        self, pk: LockMechanism, sk: frozenset[LockMechanism], passed: bool
    ) -> tuple[str, Compared]:
        compared = (("pack lock", str(pk)), ("robot locks", _ids(sk)))
        if passed:
            return f"robot operates {pk}", compared
        return f"robot cannot operate {pk} (it handles {_ids(sk)})", compared


class RobotPayloadRule:
    id = "robot_payload"
    title = "Station robot lifts the pack mass"
    source = "station maker's robot or crane rating"

    def pack_key(self, pm: PackModel) -> float:
        return pm.mass_kg

    def station_key(self, sd: StationDesign) -> float:
        return sd.robot.max_pack_mass_kg

    def passes(self, pk: float, sk: float) -> bool:
        return pk <= sk

    def explain(self, pk: float, sk: float, passed: bool) -> tuple[str, Compared]:
        compared = (("pack mass", f"{pk:g} kg"), ("robot rating", f"{sk:g} kg"))
        if passed:
            return f"robot rated {sk:g} kg lifts the {pk:g} kg pack", compared
        return f"{pk:g} kg pack exceeds the robot's {sk:g} kg rating", compared


ChargePackKey = tuple[frozenset[ChargerStandard], float, float, float, float, float]
ChargerKey = tuple[ChargerStandard, float, float, float, float]


class RechargeRule:
    """Some rack charger speaks the pack's standard, spans its voltage window, and refills it
    within the policy's recharge time; effective power is the least of the charger's power,
    its current times the pack's nominal voltage, and the pack's charge limit.
    """

    id = "station_recharge"
    title = "Station can recharge the pack"
    source = "GB/T 20234.3-2015, GB/T 20234.4-2023 (ChaoJi), IEC 61851-23 (CCS2), SAE J3271 (MCS)"

    def __init__(self, max_recharge_h: float) -> None:
        self.max_recharge_h = max_recharge_h

    def pack_key(self, pm: PackModel) -> ChargePackKey:
        return (
            pm.charge_standards,
            pm.min_voltage_v,
            pm.max_voltage_v,
            pm.nominal_voltage_v,
            pm.max_charge_power_kw,
            pm.usable_energy_kwh,
        )

    def station_key(self, sd: StationDesign) -> tuple[ChargerKey, ...]:
        return tuple(
            (c.standard, c.min_voltage_v, c.max_voltage_v, c.max_current_a, c.max_power_kw)
            for c in sd.chargers
        )

    def _best(self, pk: ChargePackKey, sk: tuple[ChargerKey, ...]) -> tuple[float, str]:
        """Best effective charging power (kW) over the chargers that fit, and why none fit."""
        standards, vmin, vmax, vnom, pmax, _ = pk
        best = 0.0
        why = "no charger speaks " + _ids(standards)
        for std, cmin, cmax, amax, kwmax in sk:
            if std not in standards:
                continue
            if cmin > vmin or cmax < vmax:
                why = f"{std} charger spans {cmin:g}-{cmax:g} V, pack needs {vmin:g}-{vmax:g} V"
                continue
            best = max(best, min(kwmax, amax * vnom / 1000.0, pmax))
        return best, why

    def passes(self, pk: ChargePackKey, sk: tuple[ChargerKey, ...]) -> bool:
        best, _ = self._best(pk, sk)
        return best > 0.0 and pk[5] / best <= self.max_recharge_h

    def explain(
        self, pk: ChargePackKey, sk: tuple[ChargerKey, ...], passed: bool
    ) -> tuple[str, Compared]:
        best, why = self._best(pk, sk)
        chargers = ", ".join(f"{s}:{c0:g}-{c1:g}V/{a:g}A/{kw:g}kW" for s, c0, c1, a, kw in sk)
        compared: Compared = (
            ("pack accepts", _ids(pk[0])),
            ("pack window", f"{pk[1]:g}-{pk[2]:g} V"),
            ("station chargers", chargers or "none"),
        )
        if best <= 0.0:
            return why, compared
        hours = pk[5] / best
        compared = (*compared, ("recharge", f"{pk[5]:g} kWh at {best:g} kW = {hours:.2f} h"))
        if passed:
            return f"recharges at {best:g} kW in {hours:.2f} h", compared
        return f"recharge takes {hours:.2f} h, over the {self.max_recharge_h:g} h limit", compared


# --- vehicle x station -----------------------------------------------------------------------


class SwapTypeRule:
    id = "swap_type"
    title = "Station swap type serves the vehicle's mount"
    source = "2024 industry report: chassis, rigid and flexible top-lift families"

    def vehicle_key(self, vm: VehicleModel) -> MountType:
        return vm.mount

    def station_key(self, sd: StationDesign) -> SwapType:
        return sd.swap_type

    def passes(self, vk: MountType, sk: SwapType) -> bool:
        return SWAP_TYPE_SERVES_MOUNT[sk] == vk

    def explain(self, vk: MountType, sk: SwapType, passed: bool) -> tuple[str, Compared]:
        compared = (("vehicle mount", str(vk)), ("station swap type", str(sk)))
        if passed:
            return f"{sk} station serves {vk} vehicles", compared
        return f"a {sk} station cannot reach a {vk} pack", compared


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules in the order they are reported, built for one policy.

    `static_memo` remembers the model-level results of `check` per (vehicle model, pack model,
    station design, adapters): specifications are immutable, only pack state changes between
    calls. Entries are keyed by object identity and keep their objects alive, so an id can never
    be reused for another object while its entry exists.
    """

    vehicle_pack: tuple[VehiclePackRule, ...]
    pack_station: tuple[PackStationRule, ...]
    vehicle_station: tuple[SwapTypeRule, ...]
    policy: CompatibilityPolicy
    static_memo: dict[tuple[int, ...], tuple[object, tuple[RuleResult, ...]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def static_results(
        self,
        vm: VehicleModel,
        pm: PackModel,
        sd: StationDesign,
        adapters: tuple[Adapter, ...],
    ) -> tuple[RuleResult, ...]:
        """`check_static` for these specifications, computed once per distinct combination."""
        key = (id(vm), id(pm), id(sd), *map(id, adapters))
        hit = self.static_memo.get(key)
        if hit is not None:
            return hit[1]
        if len(self.static_memo) >= STATIC_MEMO_LIMIT:
            self.static_memo.clear()
        results = check_static(vm, pm, sd, adapters, self)
        self.static_memo[key] = ((vm, pm, sd, adapters), results)
        return results


STATIC_MEMO_LIMIT = 100_000  # distinct model combinations remembered before starting afresh


def build_rules(policy: CompatibilityPolicy = DEFAULT_POLICY) -> RuleSet:
    """All static rules, parameterised by `policy`."""
    return RuleSet(
        vehicle_pack=(
            MountRule(),
            FrameRule(),
            EnvelopeRule(),
            MassRule(),
            VehicleLockRule(),
            HvWindowRule(policy.hv_margin_frac),
            ConnectorRule(),
            BmsRule(),
            PowerRule(),
        ),
        pack_station=(
            RobotFrameRule(),
            RobotLockRule(),
            RobotPayloadRule(),
            RechargeRule(policy.max_recharge_h),
        ),
        vehicle_station=(SwapTypeRule(),),
        policy=policy,
    )


DEFAULT_RULES = build_rules()

# Identifiers of the pack-state rules, in report order.
INTERLOCK_RULES = ("safety_state", "soh_floor", "insulation", "temp_spread")
STATE_RULES = (*INTERLOCK_RULES, "energy")


def check_static(
    vm: VehicleModel,
    pm: PackModel,
    sd: StationDesign,
    adapters: tuple[Adapter, ...] = (),
    rules: RuleSet = DEFAULT_RULES,
) -> tuple[RuleResult, ...]:
    """The model-level rules: what the specifications alone decide."""
    out: list[RuleResult] = []
    for vpr in rules.vehicle_pack:
        vk, pk = vpr.vehicle_key(vm, adapters), vpr.pack_key(pm)
        ok = vpr.passes(vk, pk)
        reason, compared = vpr.explain(vk, pk, ok)
        out.append(RuleResult(vpr.id, ok, reason, compared))
    for psr in rules.pack_station:
        pk2, sk = psr.pack_key(pm), psr.station_key(sd)
        ok = psr.passes(pk2, sk)
        reason, compared = psr.explain(pk2, sk, ok)
        out.append(RuleResult(psr.id, ok, reason, compared))
    for vsr in rules.vehicle_station:
        vk3, sk3 = vsr.vehicle_key(vm), vsr.station_key(sd)
        ok = vsr.passes(vk3, sk3)
        reason, compared = vsr.explain(vk3, sk3, ok)
        out.append(RuleResult(vsr.id, ok, reason, compared))
    return tuple(out)


def check_pack_state(
    pack: Pack,
    pack_count: int,
    need_kwh: float | None,
    policy: CompatibilityPolicy = DEFAULT_POLICY,
) -> tuple[RuleResult, ...]:
    """The safety interlocks on measured pack state, then energy for the next leg.

    `need_kwh` is the whole vehicle's energy for its next leg, shared evenly by its
    `pack_count` packs; each pack must hold its share plus the policy's reserve. With no need
    given, the energy rule is not evaluated (and not reported).
    """
    state = pack.safety_state
    ok_state = state is SafetyState.OK
    results = [
        RuleResult(
            "safety_state",
            ok_state,
            "pack safety state ok" if ok_state else f"pack is {state}: never swapped in",
            (("safety state", str(state)),),
            interlock=True,
        )
    ]
    ok_soh = pack.soh >= policy.min_soh
    results.append(
        RuleResult(
            "soh_floor",
            ok_soh,
            f"SoH {pack.soh:.3f} {'at or above' if ok_soh else 'below'} the "
            f"{policy.min_soh:.2f} floor",
            (("SoH", f"{pack.soh:.3f}"), ("floor", f"{policy.min_soh:.2f}")),
            interlock=True,
        )
    )
    required_ohm = policy.min_insulation_ohm_per_v * pack.model.max_voltage_v
    measured = pack.insulation_resistance_ohm
    ok_iso = measured >= required_ohm
    results.append(
        RuleResult(
            "insulation",
            ok_iso,
            f"insulation {measured / 1000:.1f} kohm {'meets' if ok_iso else 'is below'} "
            f"{required_ohm / 1000:.1f} kohm ({policy.min_insulation_ohm_per_v:g} ohm/V x "
            f"{pack.model.max_voltage_v:g} V)",
            (
                ("measured", f"{measured:g} ohm"),
                ("required", f"{required_ohm:g} ohm"),
            ),
            interlock=True,
        )
    )
    spread = pack.max_cell_temp_spread_c
    ok_spread = spread <= policy.max_cell_temp_spread_c
    results.append(
        RuleResult(
            "temp_spread",
            ok_spread,
            f"cell temperature spread {spread:.1f} C {'within' if ok_spread else 'over'} the "
            f"{policy.max_cell_temp_spread_c:g} C limit",
            (("spread", f"{spread:.1f} C"), ("limit", f"{policy.max_cell_temp_spread_c:g} C")),
            interlock=True,
        )
    )
    if need_kwh is not None:
        share = need_kwh / pack_count * (1 + policy.energy_reserve_frac)
        have = pack.available_energy_kwh
        ok_energy = have >= share
        results.append(
            RuleResult(
                "energy",
                ok_energy,
                f"{have:.1f} kWh available {'covers' if ok_energy else 'falls short of'} "
                f"{share:.1f} kWh (leg share plus {policy.energy_reserve_frac:.0%} reserve)",
                (
                    ("available", f"{have:.1f} kWh"),
                    ("needed per pack", f"{share:.1f} kWh"),
                ),
            )
        )
    return tuple(results)


def check(
    vehicle: Vehicle,
    pack: Pack,
    station: Station,
    need_kwh: float | None = None,
    rules: RuleSet = DEFAULT_RULES,
) -> Verdict:
    """May `pack` go into `vehicle` at `station`? One result per rule, with reasons.

    `need_kwh` is the vehicle's energy need for its next leg (kWh, whole vehicle).
    """
    adapters = vehicle.adapters + station.adapters
    static = rules.static_results(vehicle.model, pack.model, station.design, adapters)
    return Verdict(static + check_pack_state(pack, vehicle.pack_count, need_kwh, rules.policy))
