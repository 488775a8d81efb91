"""Compatibility benchmarks: one `check`, and the coverage of a large synthetic catalog.

(a) `check` on one catalog-like triple, median microseconds, beside the cost of merely building
    a verdict of the same size from ready-made strings (the allocation floor of any explained
    verdict). (b) `CoverageEngine.network_coverage` on 2,000 pack models x 500 vehicle models x
    200 station designs, beside a naive loop of `check` over a random sample of triples,
    extrapolated to the full product.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from openswap.domain.assets import Pack, SafetyState, Station, Vehicle
from openswap.domain.compatibility import DEFAULT_RULES, RuleResult, Verdict, check
from openswap.domain.coverage import CarryAdapter, CoverageEngine, FleetEntry
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

# --- synthetic catalog -----------------------------------------------------------------------

MAKERS = ("CATL", "BYD", "EVE", "CALB", "Gotion", "Sunwoda", "SVOLT", "REPT")
OEMS = ("FAW", "SANY", "XCMG", "Geely", "Dongfeng", "Sinotruk", "Shacman", "Foton", "JAC")
CONNECTORS = ("qct1201.1-a", "qct1201.1-b", "gbt-dc", "ccs2-hd", "vendor-x")
# The QC/T 1201.1 coupler dominates; vendor couplers are rare.
CONNECTOR_WEIGHTS = tuple(zip(CONNECTORS, (10, 3, 3, 1, 1), strict=True))
# (min, nominal, max) cell voltage, V; LFP dominates heavy-truck swap packs.
CHEMISTRIES = (
    (Chemistry.LFP, (2.5, 3.2, 3.65), 8),
    (Chemistry.LMFP, (2.5, 3.7, 4.3), 1),
    (Chemistry.NMC, (3.0, 3.65, 4.2), 1),
    (Chemistry.SODIUM_ION, (1.5, 3.0, 4.0), 1),
)
MOUNT_WEIGHTS = ((MountType.CHASSIS, 6), (MountType.TOP_LIFT, 3), (MountType.SIDE, 1))
SWAP_FOR_MOUNT = {m: SwapType(str(m)) for m, _ in MOUNT_WEIGHTS}


def _weighted(rng: random.Random, pairs: tuple[tuple[T, int], ...]) -> T:
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def _handled(packs: list[PackModel], sd: StationDesign) -> list[PackModel]:
    return [p for p in packs if p.frame.id in sd.robot.frames] or packs


def _sample_up_to(rng: random.Random, items: list[PackModel], k: int) -> list[PackModel]:
    return rng.sample(items, min(k, len(items)))


@dataclass(frozen=True, slots=True)
class SyntheticCatalog:
    frames: tuple[FrameStandard, ...]
    pack_models: tuple[PackModel, ...]
    vehicle_models: tuple[VehicleModel, ...]
    station_designs: tuple[StationDesign, ...]
    adapters: tuple[Adapter, ...]
    fleet: tuple[FleetEntry, ...]
    stations: tuple[Station, ...]


def build_synthetic_catalog(
    rng: random.Random, n_packs: int, n_vehicles: int, n_designs: int
) -> SyntheticCatalog:
    """A catalog with realistic diversity: packs on a dozen frames, voltage set by 150-260
    cells in series, several makers, connector families, BMS protocols and charger types;
    round numbers where makers use them (mass to 10 kg, energy to 1 kWh)."""
    frames = tuple(
        FrameStandard(
            id=f"frame-{i:02d}",
            name=f"frame {i}",
            envelope=Envelope(
                rng.randrange(1800, 2650, 50),
                rng.randrange(1000, 1450, 50),
                rng.randrange(450, 850, 50),
            ),
            max_mass_kg=rng.choice((1500.0, 2500.0, 3500.0)),
            mount=_weighted(rng, MOUNT_WEIGHTS),
            lock=rng.choice(tuple(LockMechanism)),
            interface_id=f"if-{i:02d}",
        )
        for i in range(12)
    )
    by_mount = {m: [f for f in frames if f.mount is m] or [frames[0]] for m, _ in MOUNT_WEIGHTS}

    packs: list[PackModel] = []
    for i in range(n_packs):
        chem, (vmin, vnom, vmax), _ = rng.choices(
            CHEMISTRIES, weights=[w for *_, w in CHEMISTRIES]
        )[0]
        series = rng.randint(150, 260)
        energy = round(series * vnom * rng.choice((280, 314, 320)) * rng.choice((1, 1, 2)) / 1000)
        packs.append(
            PackModel(
                id=f"pm-{i:04d}",
                maker=rng.choice(MAKERS),
                name=f"pack {i}",
                frame=rng.choice(frames),
                chemistry=chem,
                cell_format=rng.choice(("prismatic 280Ah", "prismatic 314Ah", "blade", "CTP")),
                cells_in_series=series,
                cells_in_parallel=1,
                nominal_voltage_v=round(series * vnom, 1),
                min_voltage_v=round(series * vmin, 1),
                max_voltage_v=round(series * vmax, 1),
                usable_energy_kwh=float(energy),
                max_discharge_power_kw=float(round(energy * rng.choice((1.0, 1.5, 2.0)), -1)),
                max_charge_power_kw=float(round(energy * rng.choice((0.5, 1.0, 1.5)), -1)),
                hv_connector=_weighted(rng, CONNECTOR_WEIGHTS),
                bms_protocols=frozenset(rng.sample(list(BmsProtocol), rng.randint(1, 2))),
                charge_standards=frozenset(rng.sample(list(ChargerStandard), rng.randint(1, 2))),
                thermal=rng.choice((ThermalManagement.LIQUID, ThermalManagement.AIR)),
                insulation_rating_ohm_per_v=float(rng.randrange(200, 1001, 50)),
                mass_kg=float(round(energy / rng.uniform(0.14, 0.18), -1)),
                cycle_life=rng.randrange(6000, 15001, 1000),
            )
        )

    vehicles: list[VehicleModel] = []
    for i in range(n_vehicles):
        mount = _weighted(rng, MOUNT_WEIGHTS)
        accepted = rng.sample(by_mount[mount], min(len(by_mount[mount]), rng.randint(1, 3)))
        bay = rng.choice(accepted).envelope
        vehicles.append(
            VehicleModel(
                id=f"vm-{i:03d}",
                oem=rng.choice(OEMS),
                name=f"truck {i}",
                body=rng.choice(("tractor 6x4", "dump truck 8x4", "port shuttle", "mixer 8x4")),
                gcw_kg=49000.0,
                mount=mount,
                bay_envelope=Envelope(
                    bay.length_mm + rng.choice((0, 50, 100)),
                    bay.width_mm + rng.choice((0, 50)),
                    bay.height_mm + rng.choice((0, 50, 100)),
                ),
                pack_positions=rng.randint(1, 4),
                max_pack_mass_kg=float(rng.randrange(1200, 4001, 100)),
                accepted_frames=frozenset(f.id for f in accepted),
                accepted_locks=frozenset(
                    {*(f.lock for f in accepted), rng.choice(tuple(LockMechanism))}
                ),
                hv_min_voltage_v=rng.choice((350.0, 400.0, 450.0, 500.0, 550.0)),
                hv_max_voltage_v=rng.choice((750.0, 800.0, 850.0, 900.0, 1000.0, 1200.0)),
                hv_connector=_weighted(rng, CONNECTOR_WEIGHTS),
                bms_protocols=frozenset(rng.sample(list(BmsProtocol), rng.randint(1, 3))),
                peak_traction_power_kw=float(rng.randrange(350, 1001, 50)),
            )
        )

    designs: list[StationDesign] = []
    for i in range(n_designs):
        mount = _weighted(rng, MOUNT_WEIGHTS)
        frames_here = rng.sample(by_mount[mount], min(len(by_mount[mount]), rng.randint(1, 5)))
        designs.append(
            StationDesign(
                id=f"sd-{i:03d}",
                name=f"station design {i}",
                operator=rng.choice(("QIJI", "Qiyuan", "Aulton", "Geely")),
                swap_type=SWAP_FOR_MOUNT[mount],
                bays=rng.randint(1, 2),
                robot=SwapRobot(
                    kind="robot",
                    frames=frozenset(f.id for f in frames_here),
                    locks=frozenset({*(f.lock for f in frames_here)}),
                    max_pack_mass_kg=rng.choice((1500.0, 2000.0, 3000.0, 4000.0)),
                ),
                chargers=tuple(
                    SlotCharger(
                        standard=rng.choice(tuple(ChargerStandard)),
                        min_voltage_v=vmin_c,
                        max_voltage_v=vmax_c,
                        max_current_a=rng.choice((250.0, 400.0, 600.0, 800.0)),
                        max_power_kw=rng.choice((120.0, 180.0, 240.0, 360.0, 480.0, 600.0)),
                        count=rng.randint(4, 20),
                    )
                    for vmin_c, vmax_c in rng.sample(
                        [(150.0, 750.0), (200.0, 1000.0), (200.0, 1500.0), (400.0, 1000.0)],
                        rng.randint(1, 3),
                    )
                ),
                grid_kva=4000.0,
                power_factor=0.95,
                aux_load_kw=300.0,
                swap_time_s=300.0,
            )
        )

    adapters: list[Adapter] = []
    for i in range(10):
        mount = _weighted(rng, MOUNT_WEIGHTS)
        a, b = rng.choice(by_mount[mount]), rng.choice(by_mount[mount])
        adapters.append(Adapter(f"ad-frame-{i}", AdapterKind.FRAME, a.id, b.id, f"CQC-F{i}"))
    for i in range(6):
        a_c, b_c = rng.sample(CONNECTORS, 2)
        adapters.append(Adapter(f"ad-conn-{i}", AdapterKind.CONNECTOR, a_c, b_c, f"CQC-C{i}"))

    fleet = tuple(
        FleetEntry(
            vm,
            rng.randint(1, 300),
            (rng.choice(adapters),) if rng.random() < 0.2 else (),
        )
        for vm in vehicles
    )
    stations = tuple(
        Station(
            f"st-{i:03d}",
            sd,
            f"station {i}",
            # An operator stocks packs its robot can handle (any pack if none fits).
            tuple(p.id for p in _sample_up_to(rng, _handled(packs, sd), rng.randint(5, 40))),
            tuple(rng.sample(adapters, rng.randint(1, 2))) if rng.random() < 0.3 else (),
        )
        for i, sd in enumerate(designs)
    )
    return SyntheticCatalog(
        frames, tuple(packs), tuple(vehicles), tuple(designs), tuple(adapters), fleet, stations
    )


# --- measurement -----------------------------------------------------------------------------


def _per_call_us(fn: Callable[[], object], runs: int) -> list[float]:
    """Wall time of each of `runs` calls, in microseconds (timer overhead is about 0.1 us)."""
    clock = time.perf_counter_ns
    out = []
    for _ in range(runs):
        t0 = clock()
        fn()
        out.append((clock() - t0) / 1000.0)
    return out


def _healthy(pm: PackModel, serial: str) -> Pack:
    return Pack(serial, pm, "owner", 0.9, 0.95, 1200, SafetyState.OK, 1e9, 2.0)


def bench_check(runs: int) -> None:
    """(a) One `check`, beside building a same-sized verdict from ready-made parts."""
    rng = random.Random(7)
    cat = build_synthetic_catalog(rng, 200, 50, 20)
    # Pick a compatible triple so every rule runs its passing branch and explains it.
    candidates = (
        (
            Vehicle("V-1", vm, "fleet", vm.pack_positions),
            _healthy(pm, "P-1"),
            Station("S-1", sd, "s"),
        )
        for vm in cat.vehicle_models
        for sd in cat.station_designs
        for pm in cat.pack_models
    )
    first = None
    triple = None
    for cand in candidates:
        first = first or cand
        if check(*cand, 300.0).compatible:
            triple = cand
            break
    # Without a compatible triple, any triple still runs all 19 rules.
    triple = triple or first
    assert triple is not None
    vehicle, pack, station = triple
    verdict = check(vehicle, pack, station, 300.0)
    parts = [(r.rule, r.passed, r.reason, r.compared, r.interlock) for r in verdict.results]

    def reference() -> Verdict:
        return Verdict(tuple(RuleResult(a, b, c, d, e) for a, b, c, d, e in parts))

    for _ in range(2000):  # warm-up
        check(vehicle, pack, station, 300.0)
        reference()
    memo = DEFAULT_RULES.static_memo

    def cold() -> Verdict:
        memo.clear()
        return check(vehicle, pack, station, 300.0)

    t_check = _per_call_us(lambda: check(vehicle, pack, station, 300.0), runs)
    t_cold = _per_call_us(cold, runs)
    t_ref = _per_call_us(reference, runs)
    med_c, med_r = statistics.median(t_check), statistics.median(t_ref)
    med_cold = statistics.median(t_cold)
    p90_c = statistics.quantiles(t_check, n=10)[-1]
    print(f"(a) check(), one triple, {len(verdict.results)} rules, compatible={verdict.compatible}")
    print(f"    check            median {med_c:7.2f} us   p90 {p90_c:7.2f} us   ({runs:,} runs)")
    print(
        f"    check, first time median {med_cold:6.2f} us   (static memo cleared before each call)"
    )
    print(
        f"    reference        median {med_r:7.2f} us   "
        f"(build a Verdict of {len(parts)} RuleResults)"
    )
    print(
        f"    ratio            {med_c / med_r:7.2f} x reference; target median < 20 us: "
        f"{'met' if med_c < 20 else 'MISSED'}"
    )


def bench_coverage(n_packs: int, n_vehicles: int, n_designs: int, sample: int, seed: int) -> None:
    """(b) Network coverage of a synthetic catalog, beside a naive `check` loop."""
    rng = random.Random(seed)
    t0 = time.perf_counter()
    cat = build_synthetic_catalog(rng, n_packs, n_vehicles, n_designs)
    t_gen = time.perf_counter() - t0

    t0 = time.perf_counter()
    engine = CoverageEngine(cat.pack_models)
    cov = engine.network_coverage(cat.fleet, cat.stations)
    t_cov = time.perf_counter() - t0

    t0 = time.perf_counter()
    again = engine.network_coverage(cat.fleet, cat.stations)
    t_warm = time.perf_counter() - t0
    assert again == cov

    station = cat.stations[0]
    adapter = cat.adapters[0]
    t0 = time.perf_counter()
    engine.what_if(cat.fleet, cat.stations, [CarryAdapter(station.id, adapter)], before=cov)
    t_whatif = time.perf_counter() - t0

    # Naive reference: `check` on random (vehicle model, pack model, station design) triples.
    srng = random.Random(seed + 1)
    triples = [
        (
            Vehicle("v", vm, "f", vm.pack_positions),
            _healthy(srng.choice(cat.pack_models), "p"),
            Station("s", sd, "s"),
        )
        for vm, sd in (
            (srng.choice(cat.vehicle_models), srng.choice(cat.station_designs))
            for _ in range(sample)
        )
    ]
    t0 = time.perf_counter()
    for v, p, s in triples:
        check(v, p, s)
    t_sample = time.perf_counter() - t0
    per_check = t_sample / sample
    product = n_packs * n_vehicles * n_designs
    stocked_pairs = sum(len(s.stocked_models) for s in cat.stations) * len(cat.fleet)
    naive_full = per_check * product
    naive_stocked = per_check * stocked_pairs

    print(
        f"(b) coverage: {n_packs:,} pack models x {n_vehicles:,} vehicle models x "
        f"{n_designs:,} station designs (seed {seed}; catalog built in {t_gen:.2f} s)"
    )
    print(
        f"    fleet {cov.trucks_total:,} trucks in {len(cat.fleet)} entries; "
        f"{cov.trucks_served:,} served somewhere ({cov.share_served:.1%})"
    )
    print(
        f"    coverage, cold caches  {t_cov:8.3f} s   target < 5 s: "
        f"{'met' if t_cov < 5 else 'MISSED'}"
    )
    print(f"    coverage, warm caches  {t_warm:8.3f} s")
    print(f"    one what-if (1 station) {t_whatif:7.3f} s")
    print(f"    naive check loop       {per_check * 1e6:8.2f} us per triple ({sample:,} sampled)")
    print(
        f"    naive, full product    {naive_full:10.0f} s extrapolated for {product:,} triples"
        f"  -> coverage is {naive_full / t_cov:,.0f}x faster"
    )
    print(
        f"    naive, stocked only    {naive_stocked:10.1f} s extrapolated for {stocked_pairs:,}"
        f" (entry, stocked model) pairs -> coverage is {naive_stocked / t_cov:,.0f}x faster"
    )


def run(quick: bool = False, seed: int = 20261122) -> None:
    print(f"openswap benchmarks: compatibility ({'quick' if quick else 'full'})")
    bench_check(runs=2_000 if quick else 50_000)
    if quick:
        bench_coverage(200, 50, 20, sample=2_000, seed=seed)
    else:
        bench_coverage(2_000, 500, 200, sample=20_000, seed=seed)
