"""Matplotlib figures of a simulation output, encoded as deterministic PNG data URIs.

Figures are built on `matplotlib.figure.Figure` (Agg, no pyplot state) under matplotlib's
default style, so a user's matplotlibrc cannot change the bytes; PNGs carry no software or time
metadata. Inputs are the Arrow tables of `report.tables` and plain numbers from the summary.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import matplotlib.style as mstyle
import numpy as np
import pyarrow as pa
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

DPI = 96
WIDTH_IN = 10.0
SECONDS_PER_HOUR = 3600.0
_RC: dict[str, object] = {
    "svg.hashsalt": "openswap",  # fixed ids, should anyone switch a figure to SVG
    "font.size": 9.0,
    "axes.titlesize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 8.0,
    "legend.frameon": False,
}
# Fixed colours: utilisation kinds, the two runs of a comparison, the grid cap.
BAY, CHARGER, PACK = "#4C72B0", "#DD8452", "#55A868"
RUN_A, RUN_B = "#4C72B0", "#C44E52"
CAP = "#C44E52"
_STATION_COLOURS = (
    "#4C72B0",
    "#DD8452",
    "#55A868",
    "#C44E52",
    "#8172B3",
    "#937860",
    "#DA8BC3",
    "#8C8C8C",
    "#CCB974",
    "#64B5CD",
)


def station_colour(index: int) -> str:
    return _STATION_COLOURS[index % len(_STATION_COLOURS)]


@contextmanager
def _style() -> Iterator[None]:
    with mstyle.context(["default", _RC]):
        yield


def to_data_uri(fig: Figure) -> str:
    """The figure as a `data:image/png;base64,...` URI (no metadata, so byte-stable)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


# --- reading the tables ---------------------------------------------------------------------


def _floats(table: pa.Table, name: str) -> np.ndarray:
    """A column as float64 with NaN for nulls."""
    return np.array(
        [math.nan if v is None else float(v) for v in table.column(name).to_pylist()],
        dtype=np.float64,
    )


def _strings(table: pa.Table, name: str) -> list[str]:
    return ["" if v is None else str(v) for v in table.column(name).to_pylist()]


@dataclass(frozen=True, slots=True)
class Band:
    """A quantity over time across replications: the mean and the min-max envelope."""

    time_s: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


def _band(times: np.ndarray, values: np.ndarray) -> Band:
    order = np.unique(times)
    mean = np.full(order.shape, math.nan)
    low = np.full(order.shape, math.nan)
    high = np.full(order.shape, math.nan)
    index = np.searchsorted(order, times)
    for k in range(order.size):
        v = values[(index == k) & np.isfinite(values)]
        if v.size:
            mean[k], low[k], high[k] = float(v.mean()), float(v.min()), float(v.max())
    return Band(order, mean, low, high)


def station_bands(timeseries: pa.Table, column: str) -> dict[str, Band]:
    """Per station, `column` over time (mean and range over replications)."""
    stations = np.array(_strings(timeseries, "station"), dtype=object)
    times = _floats(timeseries, "time_s")
    values = _floats(timeseries, column)
    return {
        str(s): _band(times[stations == s], values[stations == s])
        for s in sorted(set(stations.tolist()))
    }


def network_grid_band(timeseries: pa.Table) -> Band:
    """Summed grid power of all stations over time (mean and range over replications)."""
    reps = _floats(timeseries, "replication")
    times = _floats(timeseries, "time_s")
    grid = np.nan_to_num(_floats(timeseries, "grid_kw"))
    keys = sorted(set(zip(reps.tolist(), times.tolist(), strict=True)))
    pos = {k: i for i, k in enumerate(keys)}
    total = np.zeros(len(keys))
    for r, t, g in zip(reps.tolist(), times.tolist(), grid.tolist(), strict=True):
        total[pos[(r, t)]] += g
    key_times = np.array([t for _, t in keys], dtype=np.float64)
    return _band(key_times, total)


def swap_waits_min(events: pa.Table) -> dict[str, list[float]]:
    """Per station, the wait (queue plus stock wait, minutes) of every swap, sorted."""
    out: dict[str, list[float]] = {}
    for st, outcome, q, s in zip(
        _strings(events, "station"),
        _strings(events, "outcome"),
        _floats(events, "queue_wait_s").tolist(),
        _floats(events, "stock_wait_s").tolist(),
        strict=True,
    ):
        if outcome == "swap":
            out.setdefault(st, []).append((q + s) / 60.0)
    return {k: sorted(v) for k, v in sorted(out.items())}


# --- figures --------------------------------------------------------------------------------


def _time_axis(band_times: np.ndarray) -> tuple[float, str]:
    """Divisor and label: hours for short windows, days beyond three days."""
    span_h = float(np.ptp(band_times)) / SECONDS_PER_HOUR if band_times.size else 0.0
    if span_h > 72:
        return 24 * SECONDS_PER_HOUR, "days since scenario start"
    return SECONDS_PER_HOUR, "hours since scenario start"


def _grid(n: int, row_in: float = 2.1) -> tuple[Figure, list[Axes]]:
    cols = 1 if n <= 1 else 2
    rows = max(1, math.ceil(n / cols))
    fig = Figure(figsize=(WIDTH_IN, 0.6 + row_in * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True)
    flat = [ax for row in axes for ax in row]
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _empty(message: str, height_in: float = 1.6) -> str:
    with _style():
        fig = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
        ax = fig.subplots()
        ax.axis("off")
        ax.text(0.5, 0.5, message, ha="center", va="center", color="#555555")
        return to_data_uri(fig)


def plot_grid_load(
    timeseries: pa.Table, stations: Sequence[str], caps_kw: Mapping[str, float]
) -> str:
    """One panel per station: mean grid power per 15-minute interval (band: replication range)
    against the station's grid cap (dashed)."""
    bands = station_bands(timeseries, "grid_kw")
    shown = [s for s in stations if s in bands]
    if not shown:
        return _empty("no grid data in the measured window")
    with _style():
        fig, axes = _grid(len(shown))
        div, label = _time_axis(bands[shown[0]].time_s)
        for i, (ax, station) in enumerate(zip(axes, shown, strict=True)):
            b = bands[station]
            x = b.time_s / div
            ax.fill_between(x, b.low, b.high, step="post", color=station_colour(i), alpha=0.2)
            ax.step(x, b.mean, where="post", color=station_colour(i), lw=1.3, label="grid power")
            cap = caps_kw.get(station, math.nan)
            if math.isfinite(cap):
                ax.axhline(cap, color=CAP, ls="--", lw=1.1, label=f"cap {cap:,.0f} kW")
            top = float(
                np.nanmax(np.concatenate([b.high, [cap if math.isfinite(cap) else 0, 1.0]]))
            )
            ax.set_ylim(0, top * 1.25)
            ax.set_title(station, loc="left")
            ax.set_ylabel("kW")
            ax.legend(loc="upper right", ncols=2)
        for ax in axes[-2:]:
            ax.set_xlabel(label)
        return to_data_uri(fig)


def plot_stock(timeseries: pa.Table, stations: Sequence[str]) -> str:
    """One panel per station: charged packs on the rack (band: replication range) and all packs
    on site (dotted)."""
    charged = station_bands(timeseries, "charged_packs")
    on_site = station_bands(timeseries, "packs_on_site")
    shown = [s for s in stations if s in charged and np.isfinite(charged[s].mean).any()]
    if not shown:
        return _empty("no stock samples in the measured window")
    with _style():
        fig, axes = _grid(len(shown))
        div, label = _time_axis(charged[shown[0]].time_s)
        for i, (ax, station) in enumerate(zip(axes, shown, strict=True)):
            b = charged[station]
            x = b.time_s / div
            ax.fill_between(x, b.low, b.high, step="post", color=station_colour(i), alpha=0.2)
            ax.step(x, b.mean, where="post", color=station_colour(i), lw=1.3, label="charged")
            total = on_site[station]
            ax.step(
                total.time_s / div,
                total.mean,
                where="post",
                color="#555555",
                ls=":",
                lw=1.1,
                label="on site",
            )
            top = float(np.nanmax(np.concatenate([total.mean, b.high, [1.0]])))
            ax.set_ylim(0, top * 1.3)
            ax.set_title(station, loc="left")
            ax.set_ylabel("packs")
            if i == 0:
                ax.legend(loc="upper right", ncols=2)
        for ax in axes[-2:]:
            ax.set_xlabel(label)
        return to_data_uri(fig)


def _ecdf(ax: Axes, values: Sequence[float], colour: str, label: str, ls: str = "-") -> None:
    v = np.asarray(values, dtype=np.float64)
    y = np.arange(1, v.size + 1) / v.size
    ax.step(
        np.concatenate(([0.0], v)),
        np.concatenate(([0.0], y)),
        where="post",
        color=colour,
        ls=ls,
        lw=1.3,
        label=label,
    )


def _ecdf_axes(ax: Axes) -> None:
    ax.axhline(0.95, color="#888888", ls=":", lw=0.9)
    ax.text(
        0.0,
        0.95,
        " p95",
        va="bottom",
        ha="left",
        fontsize=7.5,
        color="#666666",
        transform=ax.get_yaxis_transform(),
    )
    ax.set_xlim(left=0)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("wait from arrival to swap start (minutes)")
    ax.set_ylabel("share of swaps waiting at most x")


def plot_wait_ecdf(events: pa.Table, stations: Sequence[str]) -> str:
    """Empirical CDF of swap waits per station, all replications pooled."""
    waits = swap_waits_min(events)
    shown = [s for s in stations if waits.get(s)]
    if not shown:
        return _empty("no swaps in the measured window")
    with _style():
        fig = Figure(figsize=(WIDTH_IN, 3.6), layout="constrained")
        ax = fig.subplots()
        for station in shown:
            i = list(stations).index(station)
            _ecdf(ax, waits[station], station_colour(i), f"{station} (n={len(waits[station])})")
        _ecdf_axes(ax)
        ax.legend(loc="lower right", ncols=2 if len(shown) > 4 else 1)
        return to_data_uri(fig)


@dataclass(frozen=True, slots=True)
class Utilisation:
    """One station's utilisation fractions (0..1) and their 95 % half-widths (NaN if unknown)."""

    station: str
    bay: float
    charger: float
    pack: float
    bay_ci: float = math.nan
    charger_ci: float = math.nan
    pack_ci: float = math.nan


def _station_ticks(ax: Axes, x: np.ndarray, names: Sequence[str], tilt: bool) -> None:
    """Station ids under bars, tilted when they would collide."""
    ax.set_xticks(x, list(names), rotation=25 if tilt else 0, ha="right" if tilt else "center")


def _utilisation_bars(
    ax: Axes, rows: Sequence[Utilisation], legend: bool, tilt: bool = False
) -> None:
    x = np.arange(len(rows), dtype=np.float64)
    width = 0.26
    kinds = (("bay", BAY), ("charger", CHARGER), ("pack", PACK))
    for k, (kind, colour) in enumerate(kinds):
        values = [getattr(r, kind) for r in rows]
        errs = [getattr(r, f"{kind}_ci") for r in rows]
        yerr = [e if math.isfinite(e) else 0.0 for e in errs]
        ax.bar(
            x + (k - 1) * width,
            values,
            width,
            color=colour,
            label=kind,
            yerr=yerr if any(yerr) else None,
            capsize=2.0,
            error_kw={"lw": 0.7, "ecolor": "#444444", "alpha": 0.7},
        )
    _station_ticks(ax, x, [r.station for r in rows], tilt or len(rows) > 4)
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(axis="x", visible=False)
    if legend:
        ax.legend(loc="upper right", ncols=3)


def plot_utilisation(rows: Sequence[Utilisation]) -> str:
    """Grouped bars per station: bay, charger and pack utilisation with 95 % error bars."""
    if not rows:
        return _empty("no stations")
    with _style():
        fig = Figure(figsize=(WIDTH_IN, 3.4), layout="constrained")
        ax = fig.subplots()
        _utilisation_bars(ax, rows, legend=True)
        ax.set_ylabel("utilisation")
        return to_data_uri(fig)


def plot_utilisation_pair(
    a: Sequence[Utilisation], b: Sequence[Utilisation], label_a: str, label_b: str
) -> str:
    """The utilisation bars of two runs side by side, on one scale."""
    with _style():
        fig = Figure(figsize=(WIDTH_IN, 3.6), layout="constrained")
        axes = fig.subplots(1, 2, sharey=True, width_ratios=[max(len(a), 1), max(len(b), 1)])
        for ax, rows, label in ((axes[0], a, label_a), (axes[1], b, label_b)):
            _utilisation_bars(ax, rows, legend=ax is axes[0], tilt=True)
            ax.set_title(label, loc="left")
        axes[0].set_ylabel("utilisation")
        return to_data_uri(fig)


def plot_wasted_pair(
    a: Mapping[str, Mapping[str, float]],
    b: Mapping[str, Mapping[str, float]],
    label_a: str,
    label_b: str,
) -> str:
    """Wasted trips per station by reason (stacked), two runs side by side on one scale.
    `a` and `b` map station id to {reason: mean count}, in display order."""
    reasons = sorted({r for run in (a, b) for counts in run.values() for r in counts})
    colours = {r: _STATION_COLOURS[(i + 3) % len(_STATION_COLOURS)] for i, r in enumerate(reasons)}
    with _style():
        fig = Figure(figsize=(WIDTH_IN, 3.4), layout="constrained")
        axes = fig.subplots(1, 2, sharey=True, width_ratios=[max(len(a), 1), max(len(b), 1)])
        for ax, run, label in ((axes[0], a, label_a), (axes[1], b, label_b)):
            names = list(run)
            x = np.arange(len(names), dtype=np.float64)
            bottom = np.zeros(len(names))
            for reason in reasons:
                h = np.array([float(run[s].get(reason, 0.0)) for s in names])
                ax.bar(x, h, 0.6, bottom=bottom, color=colours[reason], label=reason)
                bottom += h
            _station_ticks(ax, x, names, tilt=True)
            ax.set_title(label, loc="left")
            ax.grid(axis="x", visible=False)
            if not reasons or not bottom.any():
                ax.text(
                    0.5,
                    0.5,
                    "no wasted trips",
                    transform=ax.transAxes,
                    ha="center",
                    color="#555555",
                )
        axes[0].set_ylabel("wasted trips (mean per replication)")
        if reasons:
            axes[0].legend(loc="upper left")
        return to_data_uri(fig)


def plot_wait_pair(events_a: pa.Table, events_b: pa.Table, label_a: str, label_b: str) -> str:
    """Network-wide empirical CDFs of swap waits of two runs, overlaid."""
    pooled = []
    for events in (events_a, events_b):
        waits = swap_waits_min(events)
        pooled.append(sorted(w for v in waits.values() for w in v))
    if not pooled[0] and not pooled[1]:
        return _empty("no swaps in either run")
    with _style():
        fig = Figure(figsize=(WIDTH_IN, 3.4), layout="constrained")
        ax = fig.subplots()
        for values, colour, label, ls in (
            (pooled[0], RUN_A, label_a, "-"),
            (pooled[1], RUN_B, label_b, "--"),
        ):
            if values:
                _ecdf(ax, values, colour, f"{label} (n={len(values)})", ls)
        _ecdf_axes(ax)
        ax.legend(loc="lower right")
        return to_data_uri(fig)


def plot_network_grid_pair(ts_a: pa.Table, ts_b: pa.Table, label_a: str, label_b: str) -> str:
    """Summed station grid power of two runs over time, overlaid."""
    bands = [network_grid_band(ts_a), network_grid_band(ts_b)]
    if not any(b.time_s.size for b in bands):
        return _empty("no grid data in either run")
    with _style():
        fig = Figure(figsize=(WIDTH_IN, 3.0), layout="constrained")
        ax = fig.subplots()
        first = next(b for b in bands if b.time_s.size)
        div, xlabel = _time_axis(first.time_s)
        for b, colour, label, ls in (
            (bands[0], RUN_A, label_a, "-"),
            (bands[1], RUN_B, label_b, "--"),
        ):
            if b.time_s.size:
                ax.fill_between(
                    b.time_s / div, b.low, b.high, step="post", color=colour, alpha=0.15
                )
                ax.step(
                    b.time_s / div, b.mean, where="post", color=colour, ls=ls, lw=1.3, label=label
                )
        ax.set_ylim(bottom=0)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("kW, all stations")
        ax.legend(loc="upper right")
        return to_data_uri(fig)


def plot_charging_schedule(
    slot_start_h: Sequence[float],
    slot_h: Sequence[float],
    power_kw: Sequence[float],
    baseline_kw: Sequence[float],
    cap_kw: float,
    price_cny_per_kwh: Sequence[float],
    title: str,
) -> bytes:
    """A station's planned grid power per slot (steps) against charge-at-once and the grid cap,
    with the energy price on a second axis; PNG bytes (no metadata, byte-stable)."""
    edges = np.append(np.asarray(slot_start_h), slot_start_h[-1] + slot_h[-1])
    with _style():
        fig = Figure(figsize=(WIDTH_IN, 3.4), dpi=DPI)
        ax = fig.add_subplot()
        ax.stairs(np.asarray(baseline_kw), edges, color=RUN_A, alpha=0.6, label="charge at once")
        ax.stairs(np.asarray(power_kw), edges, color=RUN_B, linewidth=1.8, label="LP schedule")
        ax.axhline(cap_kw, color=CAP, linestyle="--", linewidth=1.0, label="grid cap")
        ax.set_xlabel("hours from now")
        ax.set_ylabel("grid power, kW")
        ax.set_ylim(0, cap_kw * 1.12)
        ax.set_title(title)
        price_ax = ax.twinx()
        price_ax.stairs(np.asarray(price_cny_per_kwh), edges, color="#8C8C8C", linewidth=0.8)
        price_ax.set_ylabel("price, CNY/kWh", color="#8C8C8C")
        price_ax.grid(False)
        ax.legend(loc="upper right")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()
