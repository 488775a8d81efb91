"""Report data of pack health: one pack's SoH series with its forecast band, and fleet or maker
distributions with the packs near end of life and the second-life candidates (70-80 % SoH).

Plain dataclasses with `to_dict`; rendering (tables, plots, API resources) lives in adapters.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from openswap.domain.ageing import EOL_SOH
from openswap.health.ageing import EolForecast
from openswap.health.detection import Alarm

SECOND_LIFE_LOW = 0.70  # second-life window: retired packs at 70-80 % SoH (domain facts 4)
NEAR_EOL_MARGIN = 0.03  # "near end of life": within 3 points of 80 % [estimate]
NEAR_EOL_DAYS = 180.0  # or forecast to reach it within half a year [estimate]


@dataclass(frozen=True, slots=True)
class SohPoint:
    time_s: float
    soh: float
    soh_low: float
    soh_high: float

    def to_dict(self) -> dict[str, float]:
        return {
            "time_s": self.time_s,
            "soh": self.soh,
            "soh_low": self.soh_low,
            "soh_high": self.soh_high,
        }


@dataclass(frozen=True, slots=True)
class PackHealthSummary:
    """One pack: capacity and resistance SoH over time, the forecast band, spread, alarms."""

    serial: str
    maker: str
    model: str
    capacity: tuple[SohPoint, ...]
    resistance: tuple[SohPoint, ...]
    forecast_band: tuple[SohPoint, ...] = ()  # model SoH ahead: median with the interval
    eol: EolForecast | None = None
    max_spread_c: float = math.nan
    alarms: tuple[Alarm, ...] = field(default=())

    @property
    def soh(self) -> float:
        return self.capacity[-1].soh if self.capacity else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "maker": self.maker,
            "model": self.model,
            "soh": self.soh,
            "capacity": [p.to_dict() for p in self.capacity],
            "resistance": [p.to_dict() for p in self.resistance],
            "forecast_band": [p.to_dict() for p in self.forecast_band],
            "eol": None if self.eol is None else self.eol.to_dict(),
            "max_spread_c": self.max_spread_c,
            "alarms": [a.to_dict() for a in self.alarms],
        }


@dataclass(frozen=True, slots=True)
class SohDistribution:
    group: str  # fleet or maker name
    n_packs: int
    mean: float
    quantiles: dict[str, float]  # p05, p25, p50, p75, p95
    histogram_edges: tuple[float, ...]
    histogram_counts: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "n_packs": self.n_packs,
            "mean": self.mean,
            "quantiles": dict(self.quantiles),
            "histogram_edges": list(self.histogram_edges),
            "histogram_counts": list(self.histogram_counts),
        }


@dataclass(frozen=True, slots=True)
class FleetHealthReport:
    """SoH distribution per group, packs near end of life, second-life candidates."""

    distributions: tuple[SohDistribution, ...]
    near_eol: tuple[str, ...]
    second_life: tuple[str, ...]
    below_second_life: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "distributions": [d.to_dict() for d in self.distributions],
            "near_eol": list(self.near_eol),
            "second_life": list(self.second_life),
            "below_second_life": list(self.below_second_life),
        }


HIST_EDGES = tuple(round(0.5 + 0.025 * k, 3) for k in range(21))  # 0.50 .. 1.00


def build_distribution(group: str, soh: Sequence[float]) -> SohDistribution:
    x = np.array([s for s in soh if math.isfinite(s)])
    if x.size == 0:
        return SohDistribution(group, 0, math.nan, {}, HIST_EDGES, (0,) * (len(HIST_EDGES) - 1))
    qs = np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95])
    counts, _ = np.histogram(np.clip(x, HIST_EDGES[0], HIST_EDGES[-1]), bins=HIST_EDGES)
    return SohDistribution(
        group,
        int(x.size),
        float(x.mean()),
        dict(zip(("p05", "p25", "p50", "p75", "p95"), (float(q) for q in qs), strict=True)),
        HIST_EDGES,
        tuple(int(c) for c in counts),
    )


def build_fleet_report(
    packs: Iterable[PackHealthSummary], *, by: str = "maker"
) -> FleetHealthReport:
    """Group `packs` by "maker" or "model"; classify each by its latest capacity SoH."""
    groups: dict[str, list[float]] = {}
    near, second, below = [], [], []
    for p in packs:
        groups.setdefault(getattr(p, by), []).append(p.soh)
        soh = p.soh
        if not math.isfinite(soh):
            continue
        if soh < SECOND_LIFE_LOW:
            below.append(p.serial)
        elif soh < EOL_SOH:
            second.append(p.serial)
        elif soh < EOL_SOH + NEAR_EOL_MARGIN or (
            p.eol is not None and p.eol.days_median <= NEAR_EOL_DAYS
        ):
            near.append(p.serial)
    return FleetHealthReport(
        tuple(build_distribution(g, v) for g, v in sorted(groups.items())),
        tuple(near),
        tuple(second),
        tuple(below),
    )
