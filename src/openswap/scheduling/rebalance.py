"""Pack rebalancing: move packs between stations when a station's pack-model mix drifts from its
demand, as one min-cost flow (OR-Tools) with lane capacity, lead time and rack room.

A pack's worth at a station is the chance it is needed in the busiest recharge window there
(arrivals in the window are Poisson, each takes a fixed number of packs): the k-th pack of a model
is worth `shortage cost x P(window demand >= k)`, a falling value, so the flow fills stations in
order of need. Moves cost the carrier's trips, shared per pack. The plan comes back as trips
(move orders) for the operations service to turn into ship/receive custody operations.
Formulation and symbols: docs/design/scheduling.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ortools.graph.python import min_cost_flow
from scipy import stats

from openswap.domain.errors import InputError, Problem

SECONDS_PER_HOUR = 3600.0
FEN_PER_CNY = 100  # the flow's costs are integers: CNY in fen
PROB_TAIL = 1e-4  # pack values below shortage cost x this are treated as zero


@dataclass(frozen=True, slots=True)
class StationRack:
    """A station's packs on site by model (charged or not) and the most its rack can hold."""

    id: str
    capacity_packs: int
    stock: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class PackDemand:
    """Forecast demand for one model at one station in its busiest recharge window: expected
    arrivals (Poisson) and packs each arrival swaps."""

    station: str
    pack_model: str
    window_arrivals: float
    packs_per_arrival: int


@dataclass(frozen=True, slots=True)
class Lane:
    """A road link a carrier can drive from one station to another."""

    origin: str
    destination: str
    distance_km: float


@dataclass(frozen=True, slots=True)
class Carrier:
    """The vehicles that move packs. One trip carries packs of one model (frame-specific
    cradles), loads at the origin, drives, unloads, and drives back empty."""

    capacity_packs: int = 12
    speed_kmh: float = 70.0
    cost_cny_per_km: float = 6.0  # [estimate] a heavy truck's running cost
    cost_cny_per_h: float = 120.0  # [estimate] driver and vehicle time
    handling_s: float = 1800.0  # loading plus unloading per trip
    handling_cny_per_pack: float = 30.0  # [estimate] robot and custody checks at both ends
    vehicles: int = 1

    def lead_time_s(self, distance_km: float) -> float:
        """Departure from the origin to the packs unloaded at the destination."""
        return self.handling_s + distance_km / self.speed_kmh * SECONDS_PER_HOUR

    def round_trip_s(self, distance_km: float) -> float:
        return self.lead_time_s(distance_km) + distance_km / self.speed_kmh * SECONDS_PER_HOUR

    def trip_cost_cny(self, distance_km: float) -> float:
        return (
            2.0 * distance_km * self.cost_cny_per_km
            + self.round_trip_s(distance_km) / SECONDS_PER_HOUR * self.cost_cny_per_h
        )

    def pack_cost_cny(self, distance_km: float) -> float:
        """Per pack on a full trip: the linear cost the flow uses."""
        return self.trip_cost_cny(distance_km) / self.capacity_packs + self.handling_cny_per_pack


@dataclass(frozen=True, slots=True)
class MoveOrder:
    """One carrier trip: ship `count` packs of `pack_model` from `origin`, receive at
    `destination`."""

    trip: int
    vehicle: int
    origin: str
    destination: str
    pack_model: str
    count: int
    depart_s: float
    arrive_s: float
    cost_cny: float  # this trip's share of vehicle cost plus handling

    @property
    def within_horizon(self) -> bool:
        return math.isfinite(self.arrive_s)


@dataclass(frozen=True, slots=True)
class RebalancePlan:
    moves: tuple[MoveOrder, ...]
    stock_before: dict[tuple[str, str], int]  # (station, model) -> packs
    stock_after: dict[tuple[str, str], int]
    shortage_before: dict[tuple[str, str], float]  # expected packs short in the busiest window
    shortage_after: dict[tuple[str, str], float]
    transport_cost_cny: float  # of the trips built
    objective_fen: int  # the flow's optimal cost (linear per-pack transport + pack values)
    true_cost_fen: int  # the same with the trips as built (whole-trip charges)

    @property
    def packs_moved(self) -> int:
        return sum(m.count for m in self.moves)

    @property
    def total_shortage_before(self) -> float:
        return sum(self.shortage_before.values())

    @property
    def total_shortage_after(self) -> float:
        return sum(self.shortage_after.values())


def _demand_index(demand: Sequence[PackDemand]) -> dict[tuple[str, str], PackDemand]:
    return {(d.station, d.pack_model): d for d in demand}


def prob_needed(d: PackDemand | None, k: int) -> float:
    """P(the k-th pack of this model at this station is needed in the busiest window), k >= 1."""
    if d is None or d.window_arrivals <= 0 or k < 1:
        return 0.0
    arrivals_needed = math.ceil(k / max(d.packs_per_arrival, 1))
    return float(stats.poisson.sf(arrivals_needed - 1, d.window_arrivals))


def expected_shortage(d: PackDemand | None, stock: int) -> float:
    """E[(window pack demand - stock)+], packs: the sum of P(k-th pack needed) for k > stock."""
    if d is None or d.window_arrivals <= 0:
        return 0.0
    total = 0.0
    k = max(stock, 0) + 1
    while True:
        p = prob_needed(d, k)
        if p < 1e-9:
            return total
        total += p
        k += 1


def pack_values_fen(d: PackDemand | None, shortage_cost_cny: float, limit: int) -> list[int]:
    """Values of the 1st, 2nd, ... pack (up to `limit`) in fen, non-increasing; trailing zeros
    dropped."""
    values: list[int] = []
    for k in range(1, limit + 1):
        p = prob_needed(d, k)
        if p < PROB_TAIL:
            break
        values.append(round(shortage_cost_cny * FEN_PER_CNY * p))
    return values


def check_rebalance(
    racks: Sequence[StationRack],
    demand: Sequence[PackDemand],
    lanes: Sequence[Lane],
    carrier: Carrier,
) -> None:
    """Raise InputError naming every inconsistent rack, demand, lane or carrier field."""
    problems: list[Problem] = []
    ids = {r.id for r in racks}
    if len(ids) != len(racks):
        problems.append(Problem("station ids must be unique", field="racks"))
    for i, r in enumerate(racks):
        held = sum(r.stock.values())
        if any(n < 0 for n in r.stock.values()):
            problems.append(Problem(f"station {r.id}: negative stock", field=f"racks[{i}].stock"))
        if held > r.capacity_packs:
            problems.append(
                Problem(
                    f"station {r.id}: {held} packs on site exceed its rack of {r.capacity_packs}",
                    field=f"racks[{i}].capacity_packs",
                )
            )
    for i, d in enumerate(demand):
        if d.station not in ids:
            problems.append(Problem(f"unknown station {d.station!r}", field=f"demand[{i}]"))
        if d.window_arrivals < 0 or d.packs_per_arrival < 1:
            problems.append(
                Problem("window_arrivals must be >= 0 and packs_per_arrival >= 1", f"demand[{i}]")
            )
    for i, lane in enumerate(lanes):
        if lane.origin not in ids or lane.destination not in ids:
            problems.append(
                Problem(f"lane {lane.origin}->{lane.destination}: unknown station", f"lanes[{i}]")
            )
        if lane.distance_km < 0 or lane.origin == lane.destination:
            problems.append(
                Problem("a lane joins two stations at a distance >= 0 km", f"lanes[{i}]")
            )
    if carrier.capacity_packs < 1 or carrier.vehicles < 1 or carrier.speed_kmh <= 0:
        problems.append(
            Problem("carrier capacity, vehicles and speed must be positive", field="carrier")
        )
    if problems:
        raise InputError(problems)


# --- the min-cost flow, one family of nodes or arcs per function -------------------------------


class RebalanceNetwork:
    """The flow network: node (j, m) holds station j's packs of model m, node R_j is station
    j's rack, T the sink. Arcs are added by the `define_*` functions below."""

    def __init__(self, racks: Sequence[StationRack], models: Sequence[str]) -> None:
        self.flow = min_cost_flow.SimpleMinCostFlow()
        self.racks = tuple(racks)
        self.models = tuple(models)
        n = len(self.racks) * len(self.models)
        self.node = {
            (r.id, m): j * len(self.models) + k
            for j, r in enumerate(self.racks)
            for k, m in enumerate(self.models)
        }
        self.rack_node = {r.id: n + j for j, r in enumerate(self.racks)}
        self.sink = n + len(self.racks)
        self.lane_arcs: list[tuple[int, Lane, str]] = []  # (arc, lane, model)

    def arc(self, tail: int, head: int, capacity: int, cost: int) -> int:
        return int(self.flow.add_arc_with_capacity_and_unit_cost(tail, head, capacity, cost))


def define_stock_supplies(net: RebalanceNetwork) -> None:
    """Supply of node (j, m) = packs of m at j now; the sink absorbs them all."""
    total = 0
    for r in net.racks:
        for m in net.models:
            n = int(r.stock.get(m, 0))
            net.flow.set_node_supply(net.node[(r.id, m)], n)
            total += n
    net.flow.set_node_supply(net.sink, -total)


def define_lane_arcs(
    net: RebalanceNetwork, lanes: Sequence[Lane], carrier: Carrier, horizon_s: float
) -> None:
    """Arc (a, m) -> (b, m) per lane and model whose lead time fits the horizon; capacity the
    packs the carriers can bring in the horizon, cost per pack on a full trip."""
    for lane in lanes:
        if carrier.lead_time_s(lane.distance_km) > horizon_s:
            continue
        trips = max(1, math.floor(horizon_s / carrier.round_trip_s(lane.distance_km)))
        capacity = carrier.capacity_packs * trips * carrier.vehicles
        cost = round(carrier.pack_cost_cny(lane.distance_km) * FEN_PER_CNY)
        for m in net.models:
            a = net.arc(net.node[(lane.origin, m)], net.node[(lane.destination, m)], capacity, cost)
            net.lane_arcs.append((a, lane, m))


def define_pack_value_arcs(
    net: RebalanceNetwork, demand: Sequence[PackDemand], shortage_cost_cny: float
) -> None:
    """Every pack ends on a rack: (j, m) -> R_j through unit arcs costing the shortage cost less
    the k-th pack's value (non-decreasing in k, so they fill in order), then one free-value arc
    for the rest. Adding the constant shortage cost per pack keeps costs non-negative."""
    index = _demand_index(demand)
    full = round(shortage_cost_cny * FEN_PER_CNY)
    total_by_model = {m: sum(int(r.stock.get(m, 0)) for r in net.racks) for m in net.models}
    for r in net.racks:
        for m in net.models:
            limit = min(r.capacity_packs, total_by_model[m])
            values = pack_values_fen(index.get((r.id, m)), shortage_cost_cny, limit)
            tail, head = net.node[(r.id, m)], net.rack_node[r.id]
            for v in values:
                net.arc(tail, head, 1, full - v)
            net.arc(tail, head, max(total_by_model[m], 1), full)


def define_rack_room(net: RebalanceNetwork) -> None:
    """R_j -> T with capacity the rack's size: no station ends with more packs than it holds."""
    for r in net.racks:
        net.arc(net.rack_node[r.id], net.sink, r.capacity_packs, 0)


def _schedule_trips(
    flows: Sequence[tuple[Lane, str, int]], carrier: Carrier, now_s: float, horizon_s: float
) -> list[MoveOrder]:
    """Split each lane-model flow into full trips (and one partial), cheapest lanes first, and
    give each to the vehicle free earliest. A trip that cannot arrive within the horizon keeps
    arrive_s = inf (not within_horizon) so the caller sees it."""
    free = [now_s] * carrier.vehicles
    orders: list[MoveOrder] = []
    for lane, model, packs in sorted(flows, key=lambda f: (f[0].distance_km, f[0].origin, f[1])):
        left = packs
        while left > 0:
            load = min(left, carrier.capacity_packs)
            left -= load
            v = min(range(len(free)), key=lambda k: free[k])
            depart = free[v]
            arrive = depart + carrier.lead_time_s(lane.distance_km)
            free[v] = depart + carrier.round_trip_s(lane.distance_km)
            orders.append(
                MoveOrder(
                    len(orders),
                    v,
                    lane.origin,
                    lane.destination,
                    model,
                    load,
                    depart,
                    arrive if arrive <= now_s + horizon_s else math.inf,
                    carrier.trip_cost_cny(lane.distance_km) + load * carrier.handling_cny_per_pack,
                )
            )
    return orders


def _solve(
    racks: Sequence[StationRack],
    models: Sequence[str],
    demand: Sequence[PackDemand],
    lanes: Sequence[Lane],
    carrier: Carrier,
    horizon_s: float,
    shortage_cost_cny: float,
    caps: Mapping[tuple[str, str, str], int],
) -> tuple[list[tuple[Lane, str, int]], int, int]:
    """Build and solve the flow; lane-model arcs in `caps` get that capacity. Returns the
    lane flows, the flow's optimal cost and the true cost (trips as built), both in fen."""
    net = RebalanceNetwork(racks, models)
    define_stock_supplies(net)
    define_lane_arcs(net, lanes, carrier, horizon_s)
    for a, lane, m in net.lane_arcs:
        cap = caps.get((lane.origin, lane.destination, m))
        if cap is not None:
            net.flow.set_arc_capacity(a, min(cap, int(net.flow.capacity(a))))
    define_pack_value_arcs(net, demand, shortage_cost_cny)
    define_rack_room(net)
    status = net.flow.solve()
    if status != net.flow.OPTIMAL:  # cannot happen: staying put is always feasible
        raise InputError([Problem(f"rebalancing flow ended with status {status}", field="racks")])
    flows = [(lane, m, int(net.flow.flow(a))) for a, lane, m in net.lane_arcs]
    flows = [f for f in flows if f[2] > 0]
    cost = int(net.flow.optimal_cost())
    true = cost
    for a, lane, _ in net.lane_arcs:
        y = int(net.flow.flow(a))
        if y:
            trips = math.ceil(y / carrier.capacity_packs)
            built = trips * carrier.trip_cost_cny(lane.distance_km)
            built += y * carrier.handling_cny_per_pack
            true += round(built * FEN_PER_CNY) - y * int(net.flow.unit_cost(a))
    return flows, cost, true


def plan_rebalance(
    racks: Sequence[StationRack],
    demand: Sequence[PackDemand],
    lanes: Sequence[Lane],
    carrier: Carrier | None = None,
    *,
    now_s: float = 0.0,
    horizon_s: float = 86_400.0,
    shortage_cost_cny: float = 500.0,
    consolidate_trips: bool = True,
) -> RebalancePlan:
    """Plan pack moves that least-cost trade carrier cost against expected packs short.

    Moves happen only where a pack's chance of being needed at the destination, times
    `shortage_cost_cny` (CNY per pack short in a busiest window), exceeds its chance at the
    origin times the same plus the per-pack transport cost. Pack counts per model are conserved;
    racks never overfill; lanes whose lead time exceeds `horizon_s` are not used.

    The flow is exact for the linear per-pack cost (full trips). A part-loaded trip costs a
    whole trip, so with `consolidate_trips` each lane's part load is then offered for removal
    (its arc capped at the full trips) and the flow re-solved, kept when the cost of the trips
    as built plus the shortage falls; repeated until nothing improves. Never worse than the
    plain flow on that true cost, but a heuristic for the fixed trip charge.
    """
    carrier = carrier or Carrier()
    check_rebalance(racks, demand, lanes, carrier)
    models = sorted({m for r in racks for m in r.stock} | {d.pack_model for d in demand})
    caps: dict[tuple[str, str, str], int] = {}
    args = (racks, models, demand, lanes, carrier, horizon_s, shortage_cost_cny)
    flows, cost, true = _solve(*args, caps)
    improved = consolidate_trips
    while improved:
        improved = False
        for lane, m, y in flows:
            part = y % carrier.capacity_packs
            if not part:
                continue
            trial = {**caps, (lane.origin, lane.destination, m): y - part}
            t_flows, t_cost, t_true = _solve(*args, trial)
            if t_true < true:
                caps, flows, cost, true, improved = trial, t_flows, t_cost, t_true, True
                break
    before = {(r.id, m): int(r.stock.get(m, 0)) for r in racks for m in models}
    after = dict(before)
    for lane, m, n in flows:
        after[(lane.origin, m)] -= n
        after[(lane.destination, m)] += n
    index = _demand_index(demand)
    orders = _schedule_trips(flows, carrier, now_s, horizon_s)
    return RebalancePlan(
        tuple(orders),
        before,
        after,
        {k: expected_shortage(index.get(k), n) for k, n in before.items()},
        {k: expected_shortage(index.get(k), n) for k, n in after.items()},
        sum(o.cost_cny for o in orders),
        cost,
        true,
    )
