"""Synthetic province-scale scenarios: many corridors, cross-brand stations, mixed fleets.

`generate_scenario_data` draws a network from one seed as plain scenario-file data (written to
YAML by `openswap scenario generate`), `generate_scenario` builds it. Feasible by construction:
station spacing never exceeds 150 km, every pack set reaches at least about 220 km loaded, and
trucks charge at 150 kW during the turnaround at either end.
"""

from __future__ import annotations

import math
import random
from typing import Any

from openswap.catalog.scenario import load_scenario_data
from openswap.domain.errors import Problem, ScenarioError
from openswap.domain.scenario import Scenario

MAX_SPACING_KM = 150.0  # Fujian plans a (car) swap station every 100 km (domain facts 6)
CORRIDOR_KM = (150.0, 600.0)
CRUISE_SPEED_KMH = 80.0  # domain facts section 8 [estimate]
# A trunk tractor's day [estimate]: between the Tangshan median of 140 km (ICCT 2023) and the
# 800 km claimed for JD Logistics swap trucks (weak), both in domain facts 2.3.
KM_PER_TRUCK_DAY = 500.0
TURNAROUND_H = 1.0  # [estimate]
# Plug-in charging during the turnaround at either end [estimate; GB/T DC is about 237 kW,
# domain facts 3.3]: the first and last stations sit up to 150 km from the ends, so the stretch
# across a turnaround is up to 300 km, beyond one full set of packs without it.
DEPOT_CHARGE_KW = 150.0
STATION_DESIGN = "qiji-open-chassis-4000"  # cross-brand chassis design, both frame families
SLOTS = 18  # the smallest station: domain facts 1.3 slot check [estimate]
PACKS_PER_VEHICLE = 3
# Sizing a site to its demand [estimate]: a loaded tractor uses about 1.45 kWh/km and a set of
# three blocks holds about 400 kWh above the reserve, so a trip needs about one swap per 280 km;
# the busiest site of a corridor sees about 1.5 times the average; a bay turns about 110 trucks a
# day (5 min robot cycle plus 3.5 min in and out, 65 % busy, domain facts section 8); a slot
# recharges a pack in about an hour and stays about 60 % busy; 180 kW per slot at 95 % charger
# efficiency, 300 kW of auxiliaries and a 0.95 power factor size the grid connection.
KM_PER_SWAP = 280.0
PEAK_SITE_FACTOR = 1.5
TRUCKS_PER_BAY_DAY = 110.0
SLOT_BUSY_SHARE = 0.6
SLOT_KW = 180.0
CHARGER_EFFICIENCY = 0.95
AUX_KW = 300.0
POWER_FACTOR = 0.95

# (vehicle model, pack model, adapters, relative share): chassis trunk tractors of the built-in
# catalog. QIJI dominates (305 stations by end-2025, electrive 2026); the rest is our estimate.
FLEET_TYPES: tuple[tuple[str, str, tuple[str, ...], float], ...] = (
    ("deepway-xingtu-6x4-qiji", "catl-qiji-171-lfp", (), 0.35),
    ("shacman-x6000-6x4-qiji", "catl-qiji-171-lfp", (), 0.20),
    ("faw-j6p-6x4-chassis", "catl-qiji-171-lfp", ("adp-conn-qiji-to-qct1201a",), 0.10),
    ("faw-j6p-6x4-chassis", "calb-oca-160-lfp", (), 0.15),
    ("sany-6x4-chassis", "gotion-oca-165-lmfp", (), 0.10),
    ("faw-j6p-6x4-chassis", "eve-oca-173-lfp", (), 0.10),
)
PROFILES = ("bimodal_07_19", "bimodal_07_19", "uniform", "daytime_06_22")


def _split(total: int, weights: list[float], minimum: int = 0) -> list[int]:
    """`total` split in proportion to `weights` (largest remainder), each part >= `minimum`."""
    spare = total - minimum * len(weights)
    shares = [spare * w / sum(weights) for w in weights]
    parts = [math.floor(s) for s in shares]
    order = sorted(range(len(weights)), key=lambda i: parts[i] - shares[i])
    for i in order[: spare - sum(parts)]:
        parts[i] += 1
    return [p + minimum for p in parts]


def _site_size(trucks: int, trips_per_day: float, length_km: float, sites: int) -> dict[str, Any]:
    """Bays, slots and grid connection of each site of a corridor, sized to its expected swaps."""
    swaps_per_day = trucks * trips_per_day * max(length_km / KM_PER_SWAP, 0.5)
    per_site = PEAK_SITE_FACTOR * swaps_per_day / max(2 * sites, 1)
    bays = max(1, math.ceil(per_site / TRUCKS_PER_BAY_DAY))
    packs_per_hour = per_site * PACKS_PER_VEHICLE / 24.0
    slots = max(SLOTS, PACKS_PER_VEHICLE * math.ceil(packs_per_hour / SLOT_BUSY_SHARE / 3.0))
    grid_kw = slots * SLOT_KW / CHARGER_EFFICIENCY + AUX_KW
    grid_kva = 500.0 * math.ceil(grid_kw / POWER_FACTOR / 500.0)
    return {"bays": bays, "slots": slots, "grid_kva": grid_kva}


def _stock(models: dict[str, int], slots: int) -> dict[str, int]:
    """Rack stock by pack model: full truck sets in proportion to trucks, filling the slots."""
    sets = slots // PACKS_PER_VEHICLE
    ids = sorted(models)
    counts = _split(sets - len(ids), [float(models[m]) for m in ids])
    return {m: (n + 1) * PACKS_PER_VEHICLE for m, n in zip(ids, counts, strict=True)}


def _check_inputs(
    trucks: int, corridors: int, stations_per_corridor: int, days: float
) -> list[Problem]:
    out = []
    if corridors < 1:
        out.append(Problem(f"needs at least 1 corridor, got {corridors}", field="corridors"))
    if trucks < max(corridors, 1):
        out.append(Problem(f"needs at least one truck per corridor, got {trucks}", field="trucks"))
    if not 0 <= stations_per_corridor <= 20:
        out.append(
            Problem(f"must be 0-20, got {stations_per_corridor}", field="stations_per_corridor")
        )
    if not (math.isfinite(days) and days > 0):
        out.append(Problem(f"must be > 0, got {days}", field="days"))
    return out


def generate_scenario_data(
    trucks: int, corridors: int, stations_per_corridor: int, seed: int, days: float
) -> dict[str, Any]:
    """Scenario-file data of a synthetic network; the same arguments give the same data.

    Corridors are 150-600 km long, but never longer than `stations_per_corridor` + 1 gaps of
    150 km, so the stations (one per carriageway at each of the evenly spaced sites) keep every
    fleet able to finish its trips. Trucks are shared among corridors in proportion to their
    length and among fleet types by `FLEET_TYPES` shares, each type split between both ends.
    """
    problems = _check_inputs(trucks, corridors, stations_per_corridor, days)
    if problems:
        raise ScenarioError(problems)
    rng = random.Random(seed)
    max_km = min(CORRIDOR_KM[1], MAX_SPACING_KM * (stations_per_corridor + 1))
    lengths = [round(rng.uniform(min(CORRIDOR_KM[0], max_km), max_km), 1) for _ in range(corridors)]
    per_corridor = _split(trucks, lengths, minimum=1)
    corridor_data: list[dict[str, Any]] = []
    station_data: list[dict[str, Any]] = []
    fleet_data: list[dict[str, Any]] = []
    for c, (length, count) in enumerate(zip(lengths, per_corridor, strict=True)):
        cid = f"c{c:03d}"
        corridor_data.append(
            {
                "id": cid,
                "name": f"Synthetic corridor {c}",
                "length_km": length,
                "waypoints": {"west": 0.0, "east": length},
                "grade_profile": "coastal_rolling",
                "grade_seed": rng.randrange(2**31),
                "cruise_speed_kmh": CRUISE_SPEED_KMH,
            }
        )
        types = rng.sample(FLEET_TYPES, k=min(len(FLEET_TYPES), rng.randint(2, 4)))
        split = _split(count, [t[3] for t in types])
        trips = round(max(KM_PER_TRUCK_DAY / length, 0.5), 2)
        profile = rng.choice(PROFILES)
        models: dict[str, int] = {}
        for (vehicle, pack, adapters, _), n in zip(types, split, strict=True):
            ends = _split(n, [1.0, 1.0])
            for (origin, destination), m in zip(
                (("west", "east"), ("east", "west")), ends, strict=True
            ):
                if m == 0:
                    continue
                models[pack] = models.get(pack, 0) + m
                fleet_data.append(
                    {
                        "id": f"{cid}-f{len(fleet_data):05d}",
                        "vehicle_model": vehicle,
                        "count": m,
                        "pack_model": pack,
                        "packs_per_vehicle": PACKS_PER_VEHICLE,
                        "corridor": cid,
                        "origin": origin,
                        "destination": destination,
                        "trips_per_day": trips,
                        "departure_profile": profile,
                        "loaded_share": 0.7,
                        "turnaround_min": TURNAROUND_H * 60.0,
                        "depot_charge_kw": DEPOT_CHARGE_KW,
                        "adapters": list(adapters),
                    }
                )
        size = _site_size(count, trips, length, stations_per_corridor)
        stock = _stock(models, size["slots"])
        for k in range(stations_per_corridor):
            km = round(length * (k + 1) / (stations_per_corridor + 1), 3)
            for direction in ("forward", "backward"):
                station_data.append(
                    {
                        "id": f"{cid}-s{k}-{direction[0]}",
                        "name": f"Corridor {c} km {km:g} {direction}",
                        "corridor": cid,
                        "km": km,
                        "direction": direction,
                        "design": STATION_DESIGN,
                        "stock": dict(stock),
                        **size,
                    }
                )
    return {
        "id": f"synthetic-{trucks}-{corridors}-{stations_per_corridor}-{seed}",
        "name": f"Synthetic network: {trucks} trucks on {corridors} corridors",
        "description": (
            f"Generated by openswap (seed {seed}): {corridors} corridors of "
            f"{min(lengths):g}-{max(lengths):g} km, {len(station_data)} cross-brand stations, "
            f"{trucks} trucks in {len(fleet_data)} fleets."
        ),
        "sources": [
            {
                "ref": "synthetic network; defaults from domain-facts sections 1.3 and 8, sites "
                "sized to their expected swaps; Fujian has about 120,000 heavy trucks "
                "(batterytechonline, CATL claim)",
                "confidence": "estimate",
            }
        ],
        "corridors": corridor_data,
        "station_defaults": {
            "slots": SLOTS,
            "charger_kw_per_slot": 180.0,
            "charger_efficiency": 0.95,
            "capex_cny": 10_000_000.0,
            "tariff": "fujian-tou-2024",
        },
        "stations": station_data,
        "fleets": fleet_data,
        "run": {"days": days, "warmup_days": min(0.25, days / 4), "seed": seed, "replications": 1},
    }


def generate_scenario(
    trucks: int, corridors: int, stations_per_corridor: int, seed: int, days: float
) -> Scenario:
    """A synthetic network scenario (see `generate_scenario_data`), feasible by construction."""
    data = generate_scenario_data(trucks, corridors, stations_per_corridor, seed, days)
    return load_scenario_data(data, file=f"<generated seed {seed}>")
