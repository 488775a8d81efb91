"""Network coverage: which share of a fleet each station (and the network) can serve, which rule
blocks the rest, and what an extra adapter or an extra stocked pack model would change.

Static model compatibility only: stocked packs are assumed healthy and charged, so the pack-state
interlocks and the energy rule of `compatibility` are not part of coverage. The rules are the
very rule objects `check` uses, evaluated once per distinct key pair into bitmasks.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openswap.domain.assets import Station
from openswap.domain.compatibility import DEFAULT_RULES, RuleSet
from openswap.domain.errors import InputError, Problem, UnknownIdError
from openswap.domain.specs import Adapter, PackModel, StationDesign, VehicleModel

# Blocker reported when a station stocks no pack model at all.
NO_STOCK = "no_stock"


@dataclass(frozen=True, slots=True)
class FleetEntry:
    """`count` trucks of one vehicle model, each carrying the same adapters."""

    model: VehicleModel
    count: int
    adapters: tuple[Adapter, ...] = ()

    @property
    def label(self) -> str:
        """The vehicle model id, followed by the carried adapter ids when there are any."""
        if not self.adapters:
            return self.model.id
        return f"{self.model.id} +{'+'.join(sorted(a.id for a in self.adapters))}"


@dataclass(frozen=True, slots=True)
class EntryOutcome:
    """One fleet entry at one station: served or not, and if not, the blocking rule."""

    entry: str
    vehicle_model: str
    trucks: int
    served: bool
    blocker: str | None  # rule id, NO_STOCK, or None when served
    compatible_pack_models: int  # stocked pack models that fit this entry

    def to_dict(self) -> dict[str, object]:
        return {
            "entry": self.entry,
            "vehicle_model": self.vehicle_model,
            "trucks": self.trucks,
            "served": self.served,
            "blocker": self.blocker,
            "compatible_pack_models": self.compatible_pack_models,
        }


@dataclass(frozen=True, slots=True)
class StationCoverage:
    """The share of the fleet (by truck count) one station can serve, and who blocks the rest."""

    station_id: str
    design_id: str
    trucks_total: int
    trucks_served: int
    blocked_by_rule: tuple[tuple[str, int], ...]  # (rule id, trucks), in attribution order
    outcomes: tuple[EntryOutcome, ...]  # one per fleet entry, in fleet order

    @property
    def share_served(self) -> float:
        return self.trucks_served / self.trucks_total if self.trucks_total else 0.0

    def to_row(self) -> dict[str, object]:
        """A flat row for a table or CSV: blockers joined as `rule=trucks;...`."""
        return {
            "station": self.station_id,
            "design": self.design_id,
            "trucks_total": self.trucks_total,
            "trucks_served": self.trucks_served,
            "share_served": round(self.share_served, 4),
            "blocked_by_rule": ";".join(f"{r}={n}" for r, n in self.blocked_by_rule),
        }

    def to_dict(self) -> dict[str, object]:
        return {
            "station": self.station_id,
            "design": self.design_id,
            "trucks_total": self.trucks_total,
            "trucks_served": self.trucks_served,
            "share_served": self.share_served,
            "blocked_by_rule": dict(self.blocked_by_rule),
            "outcomes": [o.to_dict() for o in self.outcomes],
        }


@dataclass(frozen=True, slots=True)
class NetworkCoverage:
    """Per-station coverage and the trucks served by at least one station of the network."""

    trucks_total: int
    trucks_served: int  # served by at least one station
    stations: tuple[StationCoverage, ...]
    unserved: tuple[tuple[str, int], ...]  # (fleet entry label, trucks) served nowhere

    @property
    def share_served(self) -> float:
        return self.trucks_served / self.trucks_total if self.trucks_total else 0.0

    def station(self, station_id: str) -> StationCoverage:
        for s in self.stations:
            if s.station_id == station_id:
                return s
        raise UnknownIdError("station", station_id, tuple(s.station_id for s in self.stations))

    def to_rows(self) -> list[dict[str, object]]:
        return [s.to_row() for s in self.stations]

    def to_dict(self) -> dict[str, object]:
        return {
            "trucks_total": self.trucks_total,
            "trucks_served": self.trucks_served,
            "share_served": self.share_served,
            "unserved": [{"entry": e, "trucks": n} for e, n in self.unserved],
            "stations": [s.to_dict() for s in self.stations],
        }


@dataclass(frozen=True, slots=True)
class CarryAdapter:
    """What if station `station_id` also carried `adapter`?"""

    station_id: str
    adapter: Adapter

    def describe(self) -> str:
        return f"carry adapter {self.adapter.id} at station {self.station_id}"


@dataclass(frozen=True, slots=True)
class StockPackModel:
    """What if station `station_id` also stocked pack model `pack_model_id`?"""

    station_id: str
    pack_model_id: str

    def describe(self) -> str:
        return f"stock pack model {self.pack_model_id} at station {self.station_id}"


Change = CarryAdapter | StockPackModel


@dataclass(frozen=True, slots=True)
class StationDelta:
    """Trucks served at one changed station before and after a what-if."""

    station_id: str
    trucks_served_before: int
    trucks_served_after: int
    newly_served: tuple[str, ...]  # fleet entry labels
    no_longer_served: tuple[str, ...]

    @property
    def delta(self) -> int:
        return self.trucks_served_after - self.trucks_served_before

    def to_dict(self) -> dict[str, object]:
        return {
            "station": self.station_id,
            "trucks_served_before": self.trucks_served_before,
            "trucks_served_after": self.trucks_served_after,
            "delta": self.delta,
            "newly_served": list(self.newly_served),
            "no_longer_served": list(self.no_longer_served),
        }


@dataclass(frozen=True, slots=True)
class WhatIfResult:
    """The effect of a set of changes, applied together, on the stations they touch and on the
    network (trucks served by at least one station)."""

    changes: tuple[Change, ...]
    stations: tuple[StationDelta, ...]  # the stations named in `changes`, in network order
    network_served_before: int
    network_served_after: int
    before: NetworkCoverage
    after: NetworkCoverage

    @property
    def network_delta(self) -> int:
        return self.network_served_after - self.network_served_before

    def describe(self) -> str:
        return "; ".join(c.describe() for c in self.changes)

    def to_dict(self) -> dict[str, object]:
        return {
            "what_if": self.describe(),
            "stations": [s.to_dict() for s in self.stations],
            "network_served_before": self.network_served_before,
            "network_served_after": self.network_served_after,
            "network_delta": self.network_delta,
        }


# Per-rule pass masks for one vehicle (or station): the AND of them all first, for the fast
# "is anything left" test, then each rule's mask in rule order, for blocker attribution.
_Masks = tuple[int, tuple[int, ...]]


def _group_by_key(keys: Iterable[Any]) -> tuple[tuple[Any, int], ...]:
    """Distinct keys with the bitmask of the pack-model indices that project onto each."""
    groups: dict[Any, int] = {}
    for i, key in enumerate(keys):
        groups[key] = groups.get(key, 0) | (1 << i)
    return tuple(groups.items())


class CoverageEngine:
    """Static compatibility of vehicle models x pack models x station designs, as bitmasks.

    Each rule's `pack_key` groups the pack models; its `passes` runs once per distinct
    (vehicle or station key, pack key) pair; the passing groups are OR-ed into an int bitmask
    over pack-model indices. Vehicle masks are cached per (vehicle model, adapter set), because
    the adapters of the vehicle and of the station both enter the frame and connector keys.
    Rule keys must be hashable. Stocked packs are assumed healthy: no pack-state rule applies.
    """

    def __init__(self, pack_models: Iterable[PackModel], rules: RuleSet = DEFAULT_RULES) -> None:
        models = tuple(pack_models)
        dupes = sorted(i for i, n in Counter(pm.id for pm in models).items() if n > 1)
        if dupes:
            raise InputError(
                [Problem(f"pack model {d} is listed twice", field="pack_models") for d in dupes]
            )
        self.rules = rules
        self.pack_models = models
        self._index = {pm.id: i for i, pm in enumerate(models)}
        self._vp_groups = tuple(
            _group_by_key(r.pack_key(pm) for pm in models) for r in rules.vehicle_pack
        )
        self._ps_groups = tuple(
            _group_by_key(r.pack_key(pm) for pm in models) for r in rules.pack_station
        )
        self._vp_by_key: tuple[dict[Any, int], ...] = tuple({} for _ in rules.vehicle_pack)
        self._ps_by_key: tuple[dict[Any, int], ...] = tuple({} for _ in rules.pack_station)
        self._vs_by_key: tuple[dict[tuple[Any, Any], bool], ...] = tuple(
            {} for _ in rules.vehicle_station
        )
        self._vehicle_masks: dict[tuple[VehicleModel, frozenset[Adapter]], _Masks] = {}
        self._station_masks: dict[StationDesign, _Masks] = {}
        self._rule_ids = (
            *(r.id for r in rules.vehicle_pack),
            *(r.id for r in rules.pack_station),
        )

    # --- masks -------------------------------------------------------------------------------

    def stock_mask(self, stocked_models: Iterable[str]) -> int:
        """Bitmask of the given pack model ids; raises `UnknownIdError` for an unknown id."""
        mask = 0
        for ident in stocked_models:
            i = self._index.get(ident)
            if i is None:
                raise UnknownIdError("pack model", ident, tuple(sorted(self._index)))
            mask |= 1 << i
        return mask

    def vehicle_masks(self, vm: VehicleModel, adapters: tuple[Adapter, ...]) -> _Masks:
        """Per vehicle x pack rule, the pack models that pass for `vm` with `adapters`."""
        cache_key = (vm, frozenset(adapters))
        hit = self._vehicle_masks.get(cache_key)
        if hit is not None:
            return hit
        masks: list[int] = []
        for rule, groups, by_key in zip(
            self.rules.vehicle_pack, self._vp_groups, self._vp_by_key, strict=True
        ):
            vk = rule.vehicle_key(vm, adapters)
            mask = by_key.get(vk)
            if mask is None:
                mask = 0
                for pk, group in groups:
                    if rule.passes(vk, pk):
                        mask |= group
                by_key[vk] = mask
            masks.append(mask)
        out = (_and_all(masks), tuple(masks))
        self._vehicle_masks[cache_key] = out
        return out

    def station_masks(self, sd: StationDesign) -> _Masks:
        """Per pack x station rule, the pack models that pass at a station of design `sd`."""
        hit = self._station_masks.get(sd)
        if hit is not None:
            return hit
        masks: list[int] = []
        for rule, groups, by_key in zip(
            self.rules.pack_station, self._ps_groups, self._ps_by_key, strict=True
        ):
            sk = rule.station_key(sd)
            mask = by_key.get(sk)
            if mask is None:
                mask = 0
                for pk, group in groups:
                    if rule.passes(pk, sk):
                        mask |= group
                by_key[sk] = mask
            masks.append(mask)
        out = (_and_all(masks), tuple(masks))
        self._station_masks[sd] = out
        return out

    def vehicle_station_blocker(self, vm: VehicleModel, sd: StationDesign) -> str | None:
        """The first vehicle x station rule that fails, or None."""
        for rule, by_key in zip(self.rules.vehicle_station, self._vs_by_key, strict=True):
            pair = (rule.vehicle_key(vm), rule.station_key(sd))
            ok = by_key.get(pair)
            if ok is None:
                ok = by_key[pair] = rule.passes(*pair)
            if not ok:
                return rule.id
        return None

    def _evaluate(
        self, vm: VehicleModel, vmasks: _Masks, sd: StationDesign, smasks: _Masks, stock: int
    ) -> tuple[int, str | None]:
        """Compatible stocked models (mask) and the blocker when there are none.

        Attribution: a failing vehicle x station rule blocks first; then the stocked set is
        intersected with each rule's passing set in rule order (vehicle x pack, then
        pack x station) and the first rule that empties it is the blocker.
        """
        blocker = self.vehicle_station_blocker(vm, sd)
        if blocker is not None:
            return 0, blocker
        if not stock:
            return 0, NO_STOCK
        left = stock & vmasks[0] & smasks[0]
        if left:
            return left, None
        left = stock
        for rule_id, mask in zip(self._rule_ids, vmasks[1] + smasks[1], strict=True):
            left &= mask
            if not left:
                return 0, rule_id
        raise AssertionError("the AND of all rule masks was empty but no rule emptied the set")

    # --- queries -----------------------------------------------------------------------------

    def compatible_pack_models(
        self, vm: VehicleModel, adapters: tuple[Adapter, ...], station: Station
    ) -> tuple[str, ...]:
        """Ids of the station's stocked models that fit `vm` (vehicle adapters `adapters`)."""
        mask, _ = self._evaluate(
            vm,
            self.vehicle_masks(vm, adapters + station.adapters),
            station.design,
            self.station_masks(station.design),
            self.stock_mask(station.stocked_models),
        )
        return tuple(pm.id for i, pm in enumerate(self.pack_models) if mask >> i & 1)

    def blocker(
        self, vm: VehicleModel, adapters: tuple[Adapter, ...], station: Station
    ) -> str | None:
        """The rule that blocks `vm` at `station`, or None when the station serves it."""
        _, blocker = self._evaluate(
            vm,
            self.vehicle_masks(vm, adapters + station.adapters),
            station.design,
            self.station_masks(station.design),
            self.stock_mask(station.stocked_models),
        )
        return blocker

    def station_coverage(self, fleet: Sequence[FleetEntry], station: Station) -> StationCoverage:
        """How many of the fleet's trucks `station` can serve, and which rule blocks the rest."""
        _check_fleet(fleet)
        stock = self.stock_mask(station.stocked_models)
        sd = station.design
        smasks = self.station_masks(sd)
        outcomes: list[EntryOutcome] = []
        blocked: dict[str, int] = {}
        served_trucks = 0
        for entry in fleet:
            vmasks = self.vehicle_masks(entry.model, entry.adapters + station.adapters)
            mask, blocker = self._evaluate(entry.model, vmasks, sd, smasks, stock)
            if blocker is None:
                served_trucks += entry.count
            else:
                blocked[blocker] = blocked.get(blocker, 0) + entry.count
            outcomes.append(
                EntryOutcome(
                    entry.label,
                    entry.model.id,
                    entry.count,
                    blocker is None,
                    blocker,
                    mask.bit_count(),
                )
            )
        order = {r: i for i, r in enumerate(self._attribution_order())}
        return StationCoverage(
            station.id,
            sd.id,
            sum(e.count for e in fleet),
            served_trucks,
            tuple(sorted(blocked.items(), key=lambda rn: order[rn[0]])),
            tuple(outcomes),
        )

    def network_coverage(
        self, fleet: Sequence[FleetEntry], stations: Sequence[Station]
    ) -> NetworkCoverage:
        """Coverage of every station, and the trucks served by at least one of them."""
        _check_stations(stations)
        return _network(fleet, tuple(self.station_coverage(fleet, s) for s in stations))

    def what_if(
        self,
        fleet: Sequence[FleetEntry],
        stations: Sequence[Station],
        changes: Sequence[Change],
        before: NetworkCoverage | None = None,
    ) -> WhatIfResult:
        """Apply `changes` together and report the change in trucks served per changed station
        and in the network. Only the changed stations are recomputed; pass `before` (the
        coverage of `fleet` and `stations`) to skip recomputing the baseline.
        """
        _check_stations(stations)
        by_id = {s.id: s for s in stations}
        changed: dict[str, Station] = {}
        for change in changes:
            current = changed.get(change.station_id) or by_id.get(change.station_id)
            if current is None:
                raise UnknownIdError("station", change.station_id, tuple(sorted(by_id)))
            if isinstance(change, CarryAdapter):
                if change.adapter not in current.adapters:
                    current = dataclasses.replace(
                        current, adapters=(*current.adapters, change.adapter)
                    )
            else:
                self.stock_mask((change.pack_model_id,))  # unknown ids fail here, by name
                if change.pack_model_id not in current.stocked_models:
                    current = dataclasses.replace(
                        current, stocked_models=(*current.stocked_models, change.pack_model_id)
                    )
            changed[change.station_id] = current
        if before is None:
            before = self.network_coverage(fleet, stations)
        after = _network(
            fleet,
            tuple(
                self.station_coverage(fleet, changed[sc.station_id])
                if sc.station_id in changed
                else sc
                for sc in before.stations
            ),
        )
        deltas = []
        for old, new in zip(before.stations, after.stations, strict=True):
            if old.station_id not in changed:
                continue
            pairs = tuple(zip(old.outcomes, new.outcomes, strict=True))
            deltas.append(
                StationDelta(
                    old.station_id,
                    old.trucks_served,
                    new.trucks_served,
                    tuple(n.entry for o, n in pairs if n.served and not o.served),
                    tuple(n.entry for o, n in pairs if o.served and not n.served),
                )
            )
        return WhatIfResult(
            tuple(changes), tuple(deltas), before.trucks_served, after.trucks_served, before, after
        )

    def _attribution_order(self) -> tuple[str, ...]:
        return (*(r.id for r in self.rules.vehicle_station), NO_STOCK, *self._rule_ids)


def _and_all(masks: Sequence[int]) -> int:
    out = -1  # all bits set, for any width
    for m in masks:
        out &= m
    return out


def _check_fleet(fleet: Sequence[FleetEntry]) -> None:
    bad = [
        Problem(f"fleet entry {e.label} has a negative truck count {e.count}", field="fleet")
        for e in fleet
        if e.count < 0
    ]
    if bad:
        raise InputError(bad)


def _check_stations(stations: Sequence[Station]) -> None:
    dupes = sorted(i for i, n in Counter(s.id for s in stations).items() if n > 1)
    if dupes:
        raise InputError([Problem(f"station {d} is listed twice", field="stations") for d in dupes])


def _network(fleet: Sequence[FleetEntry], stations: tuple[StationCoverage, ...]) -> NetworkCoverage:
    served_anywhere = [False] * len(fleet)
    for sc in stations:
        for i, outcome in enumerate(sc.outcomes):
            if outcome.served:
                served_anywhere[i] = True
    return NetworkCoverage(
        trucks_total=sum(e.count for e in fleet),
        trucks_served=sum(e.count for e, ok in zip(fleet, served_anywhere, strict=True) if ok),
        stations=stations,
        unserved=tuple(
            (e.label, e.count) for e, ok in zip(fleet, served_anywhere, strict=True) if not ok
        ),
    )


def build_network_coverage(
    fleet: Sequence[FleetEntry],
    stations: Sequence[Station],
    pack_models: Mapping[str, PackModel] | Iterable[PackModel],
    rules: RuleSet = DEFAULT_RULES,
) -> NetworkCoverage:
    """One-shot coverage; build a `CoverageEngine` instead to reuse its caches for what-ifs."""
    models = pack_models.values() if isinstance(pack_models, Mapping) else pack_models
    return CoverageEngine(models, rules).network_coverage(fleet, stations)
