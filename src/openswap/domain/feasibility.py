"""Feasibility of a scenario before it runs: impossible networks reported with their reasons.

`check_scenario` finds stations that cannot charge or serve anyone, fleets whose packs do not fit
their own trucks, and fleets that run out of energy between the stations that can serve them.
Energy is the road-load model of `energy` over the corridor's grade profile at loaded mass (the
worst case). The first trip starts at the fleet's `initial_soc`, a swap refills to `charged_soc`,
and a truck on return trips carries what is left over the turnaround, topped up by its
`depot_charge_kw` (at most to `initial_soc`), to the first station on its way back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from openswap.domain.compatibility import DEFAULT_RULES, RuleSet, check_static
from openswap.domain.energy import Segment, corridor_energy, to_opposite_direction
from openswap.domain.errors import Problem
from openswap.domain.scenario import Corridor, Direction, Fleet, Scenario, StationSite

_KM_EPS = 1e-9


def profile_between(
    profile: Sequence[Segment], start_km: float, end_km: float, max_speed_kmh: float = math.inf
) -> tuple[Segment, ...]:
    """The part of a forward-direction `profile` between two km markers, in driving order.

    With `end_km < start_km` the stretch is driven backwards (segments reversed, grades
    negated). Speeds are capped at `max_speed_kmh`. An empty tuple when the markers coincide.
    """
    lo, hi = min(start_km, end_km), max(start_km, end_km)
    out: list[Segment] = []
    at = 0.0
    for seg in profile:
        a, b = max(at, lo), min(at + seg.length_km, hi)
        if b - a > _KM_EPS:
            out.append(Segment(b - a, seg.grade_frac, min(seg.speed_kmh, max_speed_kmh)))
        at += seg.length_km
        if at >= hi:
            break
    return tuple(out) if end_km >= start_km else to_opposite_direction(out)


def leg_energy_kwh(scenario: Scenario, fleet: Fleet, start_km: float, end_km: float) -> float:
    """Net battery energy (kWh) for one truck of `fleet` between two km markers, loaded
    when the fleet ever drives loaded, at the fleet's cruise speed capped by the road's."""
    corridor = scenario.corridor(fleet.corridor)
    part = profile_between(corridor.profile, start_km, end_km, fleet.cruise_speed_kmh)
    if not part:
        return 0.0
    mass = fleet.empty_mass_kg + (fleet.payload_kg if fleet.loaded_share > 0 else 0.0)
    return corridor_energy(scenario.energy, mass, part).energy_kwh


def fleet_directions(fleet: Fleet) -> tuple[Direction, ...]:
    """Directions a fleet's trucks drive: the outbound one, and back when they return."""
    out = Direction.FORWARD if fleet.destination_km > fleet.origin_km else Direction.BACKWARD
    if not fleet.return_trips:
        return (out,)
    back = Direction.BACKWARD if out is Direction.FORWARD else Direction.FORWARD
    return (out, back)


def station_refusal(
    site: StationSite, fleet: Fleet, direction: Direction, rules: RuleSet = DEFAULT_RULES
) -> str | None:
    """Why `site` never serves trucks of `fleet` driving in `direction`; None when it can."""
    if site.corridor != fleet.corridor:
        return f"it is on corridor {site.corridor!r}, the fleet drives {fleet.corridor!r}"
    if direction not in site.directions:
        return f"it does not serve the {direction} carriageway"
    lo, hi = sorted((fleet.origin_km, fleet.destination_km))
    if not lo - _KM_EPS <= site.km <= hi + _KM_EPS:
        return f"km {site.km:g} is outside the fleet's trip (km {lo:g}-{hi:g})"
    failed = [
        r
        for r in check_static(
            fleet.vehicle_model,
            fleet.pack_model,
            site.design,
            fleet.adapters + site.adapters,
            rules,
        )
        if not r.passed
    ]
    if failed:
        return "; ".join(f"{r.rule}: {r.reason}" for r in failed)
    stocked = sum(n for m, n in site.stock if m.id == fleet.pack_model.id)
    if stocked < fleet.packs_per_vehicle:
        return (
            f"it stocks {stocked} {fleet.pack_model.id} pack(s), a truck needs "
            f"{fleet.packs_per_vehicle}"
        )
    return None


@dataclass(frozen=True, slots=True)
class Leg:
    """One stretch between energy stops of a one-way trip, and the energy it needs and has."""

    start: str
    start_km: float
    end: str
    end_km: float
    need_kwh: float
    have_kwh: float


def trip_legs(
    scenario: Scenario, fleet: Fleet, direction: Direction, rules: RuleSet = DEFAULT_RULES
) -> list[Leg]:
    """Legs of one trip in `direction`: origin, every station serving the fleet, destination.

    The first leg starts at `initial_soc`, later ones after a swap at `charged_soc`; both keep
    `reserve_frac` of the packs' usable energy in reserve.
    """
    outbound = (direction is Direction.FORWARD) == (fleet.destination_km > fleet.origin_km)
    start_km, end_km = (
        (fleet.origin_km, fleet.destination_km)
        if outbound
        else (fleet.destination_km, fleet.origin_km)
    )
    sign = 1.0 if end_km > start_km else -1.0
    stops = sorted(
        (
            (s.km, s.id)
            for s in scenario.stations
            if station_refusal(s, fleet, direction, rules) is None
        ),
        key=lambda stop: sign * stop[0],
    )
    total_kwh = fleet.packs_per_vehicle * fleet.pack_model.usable_energy_kwh
    legs: list[Leg] = []
    here, here_km = ("origin" if outbound else "destination"), start_km
    soc = fleet.initial_soc
    for km, ident in [*stops, (end_km, "destination" if outbound else "origin")]:
        legs.append(
            Leg(
                here,
                here_km,
                ident,
                km,
                leg_energy_kwh(scenario, fleet, here_km, km),
                (soc - scenario.reserve_frac) * total_kwh,
            )
        )
        here, here_km, soc = ident, km, scenario.charged_soc
    return legs


def _check_station(
    index: int, site: StationSite, scenario: Scenario, rules: RuleSet
) -> list[Problem]:
    at = f"stations[{index}]"
    out: list[Problem] = []
    cap = site.design.grid_cap_kw
    if not cap > 0.0:
        out.append(
            Problem(
                f"grid capacity {site.design.grid_kva:g} kVA x {site.design.power_factor:g} PF - "
                f"{site.design.aux_load_kw:g} kW auxiliaries = {cap:g} kW leaves nothing for "
                "charging",
                field=f"{at}.grid_kva",
            )
        )
    if site.slots < 1:
        out.append(Problem(f"needs at least one slot, has {site.slots}", field=f"{at}.slots"))
    if any(n < 0 for _, n in site.stock):
        out.append(Problem("pack counts must be >= 0", field=f"{at}.stock"))
    if site.pack_count > site.slots:
        out.append(
            Problem(
                f"{site.pack_count} packs in stock but only {site.slots} slots to hold them",
                field=f"{at}.stock",
            )
        )
    corridor = _corridor(scenario, site.corridor)
    if corridor is None:
        out.append(Problem(f"unknown corridor {site.corridor!r}", field=f"{at}.corridor"))
        return out
    if not 0.0 <= site.km <= corridor.length_km:
        out.append(
            Problem(
                f"km {site.km:g} is outside corridor {corridor.id!r} (0-{corridor.length_km:g} km)",
                field=f"{at}.km",
            )
        )
    if site.pack_count == 0:
        out.append(Problem("no packs in stock: no truck can ever swap here", field=f"{at}.stock"))
        return out
    fleets = [f for f in scenario.fleets if f.corridor == site.corridor]
    reasons = []
    for fleet in fleets:
        refusals = {d: station_refusal(site, fleet, d, rules) for d in fleet_directions(fleet)}
        if any(r is None for r in refusals.values()):
            return out
        # Carriageways the station does not serve are only worth naming if it serves none.
        relevant = [d for d in refusals if d in site.directions] or list(refusals)
        reasons += [f"fleet {fleet.id!r} ({d}): {refusals[d]}" for d in relevant]
    if not fleets:
        why = f"no fleet drives corridor {site.corridor!r}"
    else:
        why = " | ".join([*_unusable_stock(site, fleets, rules), *dict.fromkeys(reasons)])
    out.append(Problem(f"no fleet truck would ever be served here: {why}", field=at))
    return out


def _unusable_stock(site: StationSite, fleets: list[Fleet], rules: RuleSet) -> list[str]:
    """For each stocked pack model no fleet truck can take at this station: the failed rules."""
    out = []
    for model, count in site.stock:
        if count <= 0:
            continue
        refusals: dict[str, list[str]] = {}
        for fleet in fleets:
            results = check_static(
                fleet.vehicle_model, model, site.design, fleet.adapters + site.adapters, rules
            )
            failed = [r.rule for r in results if not r.passed]
            if not failed:
                break
            refusals.setdefault(fleet.vehicle_model.id, failed)
        else:
            detail = "; ".join(f"{vm}: {', '.join(rs)}" for vm, rs in refusals.items())
            out.append(f"stocked {model.id} fits no fleet truck here ({detail})")
    return out


def _corridor(scenario: Scenario, ident: str) -> Corridor | None:
    return next((c for c in scenario.corridors if c.id == ident), None)


def _check_fleet(index: int, fleet: Fleet, scenario: Scenario, rules: RuleSet) -> list[Problem]:
    at = f"fleets[{index}]"
    out: list[Problem] = []
    if fleet.count < 1:
        out.append(Problem(f"needs at least one truck, has {fleet.count}", field=f"{at}.count"))
    vm, pm = fleet.vehicle_model, fleet.pack_model
    if not 1 <= fleet.packs_per_vehicle <= vm.pack_positions:
        out.append(
            Problem(
                f"{fleet.packs_per_vehicle} packs per truck, but {vm.id!r} has "
                f"{vm.pack_positions} pack positions",
                field=f"{at}.packs_per_vehicle",
            )
        )
    failed = []
    for rule in rules.vehicle_pack:
        vk, pk = rule.vehicle_key(vm, fleet.adapters), rule.pack_key(pm)
        if not rule.passes(vk, pk):
            failed.append(f"{rule.id}: {rule.explain(vk, pk, False)[0]}")
    if failed:
        out.append(
            Problem(
                f"pack model {pm.id!r} cannot go into vehicle model {vm.id!r} "
                f"(with adapters: {', '.join(a.id for a in fleet.adapters) or 'none'}): "
                + "; ".join(failed),
                field=f"{at}.pack_model",
            )
        )
        return out
    corridor = _corridor(scenario, fleet.corridor)
    if corridor is None:
        out.append(Problem(f"unknown corridor {fleet.corridor!r}", field=f"{at}.corridor"))
        return out
    for name, km in (("origin", fleet.origin_km), ("destination", fleet.destination_km)):
        if not 0.0 <= km <= corridor.length_km:
            out.append(
                Problem(
                    f"km {km:g} is outside corridor {corridor.id!r} (0-{corridor.length_km:g} km)",
                    field=f"{at}.{name}",
                )
            )
    if out:
        return out
    if fleet.origin_km == fleet.destination_km:
        return [Problem("origin and destination are the same place", field=f"{at}.destination")]
    directions = fleet_directions(fleet)
    trips = {d: trip_legs(scenario, fleet, d, rules) for d in directions}
    for direction in directions:
        label = _label(corridor, direction)
        legs = trips[direction]
        first = legs[0]
        # Only the first trip starts at initial_soc; return trips start from the turnaround.
        if direction is directions[0] and first.need_kwh > first.have_kwh:
            out.append(
                Problem(
                    f"{label} trucks cannot reach {first.end} at km {first.end_km:g} from the "
                    f"{first.start} at km {first.start_km:g}: they need {first.need_kwh:.0f} kWh "
                    f"loaded but start with {first.have_kwh:.0f} kWh above the reserve "
                    f"(initial SoC {fleet.initial_soc:g}, reserve {scenario.reserve_frac:g}, "
                    f"{fleet.packs_per_vehicle} x {pm.usable_energy_kwh:g} kWh)",
                    field=f"{at}.initial_soc",
                )
            )
        for leg in legs[1:]:
            if leg.need_kwh > leg.have_kwh:
                out.append(
                    Problem(
                        f"{label} trucks can never complete the trip: the "
                        f"{abs(leg.end_km - leg.start_km):g} km gap from {leg.start} "
                        f"(km {leg.start_km:g}) to {leg.end} "
                        f"(km {leg.end_km:g}) needs {leg.need_kwh:.0f} kWh loaded, more than a "
                        f"full set of packs gives ({leg.have_kwh:.0f} kWh: "
                        f"{fleet.packs_per_vehicle} x {pm.usable_energy_kwh:g} kWh between SoC "
                        f"{scenario.charged_soc:g} and the {scenario.reserve_frac:g} reserve)",
                        field=f"{at}.packs_per_vehicle",
                    )
                )
    if len(directions) == 2:
        out += _turnaround_problems(scenario, fleet, corridor, trips, at)
    return out


def _label(corridor: Corridor, direction: Direction) -> str:
    return corridor.forward_label if direction is Direction.FORWARD else corridor.backward_label


def _turnaround_problems(
    scenario: Scenario,
    fleet: Fleet,
    corridor: Corridor,
    trips: dict[Direction, list[Leg]],
    at: str,
) -> list[Problem]:
    """Trucks on return trips must carry enough over each turnaround, with depot charging, to
    reach the first station on the way back (or the far end)."""
    out = []
    cap_kwh = fleet.packs_per_vehicle * fleet.pack_model.usable_energy_kwh
    top_kwh = (fleet.initial_soc - scenario.reserve_frac) * cap_kwh
    depot_kwh = fleet.depot_charge_kw * fleet.turnaround_s / 3600.0
    outbound, back = fleet_directions(fleet)
    for inbound, onward in ((outbound, back), (back, outbound)):
        arrive, leave = trips[inbound][-1], trips[onward][0]
        level = arrive.have_kwh - arrive.need_kwh
        if level < 0.0:
            continue  # reported as a gap already
        after = max(level, min(level + depot_kwh, top_kwh))
        if leave.need_kwh > after:
            out.append(
                Problem(
                    f"after the turnaround at the {arrive.end} (km {arrive.end_km:g}) "
                    f"{_label(corridor, onward)} trucks hold {after:.0f} kWh above the reserve "
                    f"({level:.0f} kWh left from {arrive.start} at km {arrive.start_km:g}, "
                    f"{depot_kwh:.0f} kWh depot charging) but need {leave.need_kwh:.0f} kWh "
                    f"loaded to reach {leave.end} at km {leave.end_km:g}",
                    field=f"{at}.depot_charge_kw",
                )
            )
    return out


def check_scenario(scenario: Scenario, rules: RuleSet = DEFAULT_RULES) -> list[Problem]:
    """Reasons `scenario` cannot run as intended; empty when it is feasible.

    Each problem names the scenario field at fault (`stations[2].stock`, `fleets[1].pack_model`)
    and says why. Stations: no power for charging, more packs than slots, or no fleet truck
    that could ever be served. Fleets: a pack model that does not fit the fleet's own vehicle
    model, the first station (or the destination) out of reach from the origin, a gap between
    consecutive serving stations longer than a full set of packs reaches, or (on return trips)
    a turnaround that leaves too little energy to reach the first station on the way back.
    """
    problems: list[Problem] = []
    for index, site in enumerate(scenario.stations):
        problems += _check_station(index, site, scenario, rules)
    for index, fleet in enumerate(scenario.fleets):
        problems += _check_fleet(index, fleet, scenario, rules)
    return problems
