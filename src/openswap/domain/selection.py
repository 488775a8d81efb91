"""Pack selection: which packs on a station's rack go into one arriving truck, best first.

`select_packs` runs `compatibility.check` on every rack pack, ranks the compatible ones and
explains each position in one line; refused packs keep their verdicts.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from openswap.domain.assets import Pack, Station, Vehicle
from openswap.domain.compatibility import DEFAULT_RULES, RuleSet, Verdict, check
from openswap.domain.errors import InputError, Problem

# Float noise (171 x 0.95 x 1.0 = 162.44999...) must not push a pack into a lower bucket.
_BUCKET_EPS_KWH = 1e-9

RankKey = tuple[int, int, float, float, str]


def energy_bucket_kwh(available_kwh: float) -> int:
    """Available energy floored to whole kWh; packs in one bucket are ranked by wear.

    A non-finite reading ranks as 0 kWh rather than ahead of real packs.
    """
    if not math.isfinite(available_kwh):
        return 0
    return math.floor(available_kwh + _BUCKET_EPS_KWH)


def rank_key(pack: Pack) -> RankKey:
    """Sort key, smallest first: most energy (whole kWh), fewest cycles, highest SoH,
    smallest cell temperature spread, then serial number so ties never depend on rack order.
    """
    return (
        -energy_bucket_kwh(pack.available_energy_kwh),
        pack.cycle_count,
        -pack.soh,
        pack.max_cell_temp_spread_c,
        pack.serial,
    )


@dataclass(frozen=True, slots=True)
class RankedPack:
    """A compatible pack, its 1-based rank, its verdict and why it sits where it does."""

    rank: int
    pack: Pack
    verdict: Verdict
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {
            "rank": self.rank,
            "serial": self.pack.serial,
            "pack_model": self.pack.model.id,
            "available_energy_kwh": round(self.pack.available_energy_kwh, 3),
            "cycle_count": self.pack.cycle_count,
            "soh": self.pack.soh,
            "max_cell_temp_spread_c": self.pack.max_cell_temp_spread_c,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class RejectedPack:
    """A pack that may not go into the vehicle, with the verdict that says why."""

    pack: Pack
    verdict: Verdict

    @property
    def reason(self) -> str:
        return self.verdict.summary()

    def to_dict(self) -> dict[str, object]:
        return {
            "serial": self.pack.serial,
            "pack_model": self.pack.model.id,
            "failed_rules": [r.rule for r in self.verdict.failed],
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Selection:
    """The ranked compatible packs (best first) and the rejected ones (in rack order).

    Every rack pack appears exactly once, in `ranked` or in `rejected`.
    """

    vehicle_id: str
    station_id: str
    need_kwh: float | None
    ranked: tuple[RankedPack, ...]
    rejected: tuple[RejectedPack, ...]

    def take(self, n: int) -> tuple[RankedPack, ...]:
        """The best `n` distinct packs for a vehicle with `n` pack positions.

        Returns fewer than `n` when the rack holds fewer compatible packs; callers that must
        fill every position compare the length (or use `shortfall`).
        """
        if n < 0:
            raise ValueError(f"cannot take {n} packs")
        return self.ranked[:n]

    def shortfall(self, n: int) -> int:
        """How many of `n` positions the rack cannot fill with compatible packs."""
        return max(0, n - len(self.ranked))

    def to_dict(self) -> dict[str, object]:
        return {
            "vehicle": self.vehicle_id,
            "station": self.station_id,
            "need_kwh": self.need_kwh,
            "ranked": [r.to_dict() for r in self.ranked],
            "rejected": [r.to_dict() for r in self.rejected],
        }


def _describe(pack: Pack) -> str:
    return (
        f"{energy_bucket_kwh(pack.available_energy_kwh)} kWh available, "
        f"{pack.cycle_count:,} cycles, SoH {pack.soh:.2f}, dT {pack.max_cell_temp_spread_c:.1f} C"
    )


def _why_behind(ahead: Pack, ahead_rank: int, pack: Pack) -> str:
    """Name the first ranking criterion on which `pack` loses to the pack just ahead."""
    a, b = rank_key(ahead), rank_key(pack)
    if a[0] != b[0]:
        what = f"energy ({-a[0]} vs {-b[0]} kWh)"
    elif a[1] != b[1]:
        what = f"cycle count ({ahead.cycle_count:,} vs {pack.cycle_count:,})"
    elif a[2] != b[2]:
        what = f"SoH ({ahead.soh:g} vs {pack.soh:g})"
    elif a[3] != b[3]:
        what = (
            f"cell temperature spread ({ahead.max_cell_temp_spread_c:g} vs "
            f"{pack.max_cell_temp_spread_c:g} C)"
        )
    else:
        return f"tied with rank {ahead_rank}; ordered by serial number"
    return f"behind rank {ahead_rank} on {what}"


def select_packs(
    vehicle: Vehicle,
    station: Station,
    rack: Sequence[Pack],
    need_kwh: float | None,
    rules: RuleSet = DEFAULT_RULES,
) -> Selection:
    """Rank the rack's packs for `vehicle` at `station`.

    `need_kwh` is the vehicle's energy need for its next leg (kWh, whole vehicle; None skips
    the energy rule). Compatible packs are ordered by `rank_key`. Raises `InputError` when a
    serial number appears more than once on the rack: one pack cannot be handed out twice.
    """
    repeated = sorted(s for s, n in Counter(p.serial for p in rack).items() if n > 1)
    if repeated:
        raise InputError(
            [
                Problem(f"pack {s} appears more than once on the rack", field="rack")
                for s in repeated
            ]
        )
    ok: list[tuple[Pack, Verdict]] = []
    rejected: list[RejectedPack] = []
    for pack in rack:
        verdict = check(vehicle, pack, station, need_kwh, rules)
        if verdict.compatible:
            ok.append((pack, verdict))
        else:
            rejected.append(RejectedPack(pack, verdict))
    ok.sort(key=lambda pv: rank_key(pv[0]))
    ranked: list[RankedPack] = []
    for i, (pack, verdict) in enumerate(ok):
        rank = i + 1
        why = "first choice" if i == 0 else _why_behind(ok[i - 1][0], rank - 1, pack)
        ranked.append(RankedPack(rank, pack, verdict, f"rank {rank}: {_describe(pack)}; {why}"))
    return Selection(vehicle.id, station.id, need_kwh, tuple(ranked), tuple(rejected))
