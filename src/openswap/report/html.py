"""Self-contained HTML pages of simulation outputs: one run's report and a two-run comparison.

Pages carry inline CSS and PNG figures as data URIs (no scripts, no external assets) and show
pictures before words: headline figures, plots, then tables and definitions. Same inputs give
the same bytes: the summary is normalised as `summary.json` stores it, wall-clock figures are
left out, and every list is in a fixed order.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from openswap.report import plots
from openswap.report.summary import to_json_ready

Run = tuple[Mapping[str, Any], pa.Table, pa.Table]
"""One simulation output: (summary, timeseries table, events table)."""

DAYS_PER_YEAR = 365.0
DASH = "–"

_CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa;
        --warn: #9a6700; --warnbg: #fff8c5; --bad: #b42318; --badbg: #ffebe9;
        --good: #1a7f37; --bar: #c8d7ee; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #fff; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid var(--line);
     padding-bottom: 4px; }
p.meta { color: var(--muted); margin: 0 0 8px; }
p.lede { margin: 8px 0 16px; max-width: 80ch; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr));
         gap: 10px; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px;
        background: var(--soft); }
.card .v { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .l { font-size: 12px; color: var(--muted); text-transform: uppercase;
           letter-spacing: .03em; }
.card .s { font-size: 12px; color: var(--muted); }
.card.warn { background: var(--warnbg); border-color: #d4a72c; }
.card.bad { background: var(--badbg); border-color: #ff8182; }
.explain { border-left: 4px solid #4c72b0; background: var(--soft); padding: 10px 14px;
           max-width: 90ch; }
figure { margin: 16px 0; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; max-width: 90ch; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums;
        width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: right;
         vertical-align: top; white-space: nowrap; }
th { background: var(--soft); font-weight: 600; position: sticky; top: 0; }
th:first-child, td:first-child { text-align: left; }
td.txt { text-align: left; white-space: normal; }
td small, th small { color: var(--muted); font-weight: normal; }
td.u { position: relative; min-width: 62px; }
td.u span.b { position: absolute; left: 0; top: 3px; bottom: 3px; background: var(--bar);
              z-index: -1; border-radius: 2px; }
td.u { z-index: 0; }
td.warn { background: var(--warnbg); color: var(--warn); }
td.bad { background: var(--badbg); color: var(--bad); }
td.up { color: var(--good); } td.down { color: var(--bad); }
dl { max-width: 90ch; } dt { font-weight: 600; margin-top: 8px; } dd { margin: 2px 0 0 16px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
"""


# --- numbers --------------------------------------------------------------------------------


def _num(value: Any) -> float:
    """A summary value as a float; None (NaN in summary.json) and non-numbers become NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)


def _fmt(value: Any, digits: int = 0, unit: str = "") -> str:
    v = _num(value)
    if not math.isfinite(v):
        return DASH
    text = f"{v:,.{digits}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0.0:
        text = text[1:]
    return f"{text} {unit}" if unit else text


def _pct(value: Any, digits: int = 0) -> str:
    v = _num(value)
    return DASH if not math.isfinite(v) else f"{v * 100:.{digits}f} %"


def _ci(row: Mapping[str, Any], key: str) -> float:
    ci = row.get("ci95")
    return _num(ci.get(key)) if isinstance(ci, Mapping) else math.nan


def _pm(row: Mapping[str, Any], key: str, digits: int = 0) -> str:
    """`value ± half-width` (the half-width left out when unknown)."""
    value = _fmt(row.get(key), digits)
    half = _ci(row, key)
    if value == DASH or not math.isfinite(half):
        return value
    return f"{value} <small>± {half:,.{digits}f}</small>"


def _days_phrase(days: float) -> str:
    """`0.5 measured days`, `1 measured day`."""
    text = _fmt(days, 2).rstrip("0").rstrip(".") if math.isfinite(days) else DASH
    return f"{text} measured day{'' if text == '1' else 's'}"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _reasons(counts: Any, digits: int = 1) -> str:
    if not isinstance(counts, Mapping) or not counts:
        return "0"
    parts = [
        f"{_e(reason.replace('_', ' '))} {_fmt(n, digits)}"
        for reason, n in sorted(counts.items())
        if _num(n) != 0
    ]
    return "; ".join(parts) or "0"


# --- page furniture -------------------------------------------------------------------------


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="openswap">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{body}\n"
        '<footer>Generated by openswap from a simulation output (schema "openswap.summary/1"). '
        "No scripts, no external assets.</footer>\n"
        "</main>\n</body>\n</html>\n"
    )


@dataclass(frozen=True, slots=True)
class Card:
    label: str
    value: str  # HTML
    sub: str = ""  # HTML
    tone: str = ""  # "", "warn" or "bad"


def _cards(cards: Sequence[Card]) -> str:
    items = []
    for c in cards:
        cls = f"card {c.tone}".strip()
        sub = f'<div class="s">{c.sub}</div>' if c.sub else ""
        items.append(
            f'<div class="{cls}"><div class="l">{_e(c.label)}</div>'
            f'<div class="v">{c.value}</div>{sub}</div>'
        )
    return '<div class="cards">\n' + "\n".join(items) + "\n</div>"


def _figure(uri: str, alt: str, caption: str) -> str:
    return f'<figure><img src="{uri}" alt="{_e(alt)}"><figcaption>{caption}</figcaption></figure>'


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table from HTML cells; a cell may start with `<td` to carry its own attributes."""
    ths = "".join(f"<th>{h}</th>" for h in head)
    body = []
    for row in rows:
        cells = "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in row)
        body.append(f"<tr>{cells}</tr>")
    return (
        f'<div class="scroll"><table><thead><tr>{ths}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _util_cell(value: Any) -> str:
    v = _num(value)
    if not math.isfinite(v):
        return f"<td>{DASH}</td>"
    width = min(max(v, 0.0), 1.0) * 100
    return f'<td class="u"><span class="b" style="width:{width:.0f}%"></span>{_pct(v)}</td>'


# --- one run --------------------------------------------------------------------------------


def _scenario_line(scenario: Mapping[str, Any]) -> str:
    days = _num(scenario.get("days"))
    warm = _num(scenario.get("warmup_days"))
    reps = _num(scenario.get("replications"))
    parts = [
        f"scenario <b>{_e(scenario.get('id', '?'))}</b>",
        _days_phrase(days)
        + (f" after {_fmt(warm, 2).rstrip('0').rstrip('.')} warm-up days" if warm > 0 else ""),
        f"{_fmt(reps)} replication{'s' if reps != 1 else ''}",
        f"policy <b>{_e(scenario.get('policy', '?'))}</b>",
        f"seed {_e(scenario.get('seed', '?'))}",
    ]
    return " · ".join(parts)


def _stations(summary: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    rows = summary.get("stations")
    return [r for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []


def _fleets(summary: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    rows = summary.get("fleets")
    return [r for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []


def _section(summary: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = summary.get(key)
    return value if isinstance(value, Mapping) else {}


def _reason_total(summary: Mapping[str, Any], reason: str) -> float:
    total = 0.0
    for st in _stations(summary):
        counts = st.get("wasted_trips_by_reason")
        if isinstance(counts, Mapping):
            total += _num(counts.get(reason, 0.0)) if counts.get(reason) is not None else 0.0
    return total


def _days(summary: Mapping[str, Any]) -> float:
    return _num(_section(summary, "scenario").get("days"))


def _headline_cards(summary: Mapping[str, Any]) -> list[Card]:
    net = _section(summary, "network")
    days = _days(summary)
    per_year = DAYS_PER_YEAR / days if days > 0 else math.nan
    window = f"over {_days_phrase(days)}"
    wasted = _num(net.get("wasted_trips"))
    stranded = _num(net.get("stranded"))
    reasons = {
        r: _reason_total(summary, r)
        for r in sorted(
            {
                k
                for st in _stations(summary)
                for k in (st.get("wasted_trips_by_reason") or {})
                if isinstance(k, str)
            }
        )
    }
    grid_factor = _num(net.get("grid_co2_kg_per_kwh"))
    green_year = _num(net.get("co2_saved_green_t")) * per_year
    return [
        Card("Swaps per day", _pm(net, "swaps_per_day", 0), "mean ± 95 % half-width"),
        Card(
            "Trucks",
            _fmt(net.get("trucks")),
            f"{_fmt(net.get('packs'))} packs in the network; "
            f"{_fmt(net.get('distance_km_per_day'))} km a day",
        ),
        Card(
            "Wasted trips",
            _fmt(wasted, 1),
            f"{window}; {_reasons(reasons)}" if wasted > 0 else window,
            "warn" if wasted > 0 else "",
        ),
        Card(
            "Stranded",
            _fmt(stranded, 1),
            f"{window}; trucks that found no station in reach",
            "bad" if stranded > 0 else "",
        ),
        Card("Energy use", _fmt(net.get("energy_kwh_per_km"), 2, "kWh/km"), "battery, per km"),
        Card(
            "CO2 saved vs diesel",
            _fmt(net.get("co2_saved_t_per_year"), 0, "t/yr"),
            f"{_fmt(net.get('co2_saved_t'), 1)} t {window}; grid at "
            f"{_fmt(grid_factor, 3)} kg CO2/kWh",
        ),
        Card(
            "CO2 saved, green power",
            _fmt(green_year, 0, "t/yr"),
            f"{_fmt(net.get('co2_saved_green_t'), 1)} t {window}; zero-carbon electricity",
        ),
        Card("Revenue per day", _fmt(net.get("revenue_cny_per_day"), 0, "CNY"), "all stations"),
        Card(
            "Energy cost per day",
            _fmt(net.get("energy_cost_cny_per_day"), 0, "CNY"),
            "grid energy at each station's tariff",
        ),
    ]


def _station_table(summary: Mapping[str, Any]) -> str:
    head = [
        "Station",
        "Swaps/day",
        "Bay",
        "Charger",
        "Pack",
        "Grid peak / cap",
        "Energy cost<br><small>CNY/day</small>",
        "Wait mean<br><small>min</small>",
        "Wait p95<br><small>min</small>",
        "Stock-outs",
        "Wasted trips",
        "Payback<br><small>years</small>",
    ]
    rows = []
    for st in _stations(summary):
        peak, cap = _num(st.get("grid_peak_kw")), _num(st.get("grid_cap_kw"))
        share = peak / cap if cap > 0 else math.nan
        tone = "bad" if share >= 0.999 else "warn" if share >= 0.9 else ""
        peak_cell = (
            f'<td class="{tone}">' if tone else "<td>"
        ) + f"{_fmt(peak)} / {_fmt(cap)} kW <small>({_pct(share)})</small></td>"
        wasted = _num(st.get("wasted_trips"))
        wasted_cell = (
            f'<td class="txt warn">{_reasons(st.get("wasted_trips_by_reason"))}</td>'
            if wasted > 0
            else "<td>0</td>"
        )
        stock = _num(st.get("stockouts"))
        payback = _num(st.get("payback_years"))
        rows.append(
            [
                f'<td class="txt"><b>{_e(st.get("id"))}</b><br><small>{_e(st.get("name", ""))}'
                f" · km {_fmt(st.get('km'))}</small></td>",
                _pm(st, "swaps_per_day", 1),
                _util_cell(st.get("bay_utilisation")),
                _util_cell(st.get("charger_utilisation")),
                _util_cell(st.get("pack_utilisation")),
                peak_cell,
                _fmt(st.get("energy_cost_cny_per_day")),
                _pm(st, "mean_wait_min", 1),
                _fmt(st.get("p95_wait_min"), 1),
                f'<td class="warn">{_fmt(stock, 1)}</td>' if stock > 0 else "<td>0</td>",
                wasted_cell,
                _fmt(payback, 1) if math.isfinite(payback) else "none",
            ]
        )
    return _table(head, rows)


def _fleet_table(summary: Mapping[str, Any]) -> str:
    head = [
        "Fleet",
        "Trucks",
        "Trips/day",
        "km/day",
        "Mean delay<br><small>min/trip</small>",
        "Energy<br><small>kWh/km</small>",
        "Cost<br><small>CNY/km</small>",
        "Diesel<br><small>CNY/km</small>",
        "Swaps",
        "Wasted trips",
        "Stranded",
    ]
    rows = []
    for fl in _fleets(summary):
        stranded = _num(fl.get("stranded"))
        wasted = _num(fl.get("wasted_trips"))
        rows.append(
            [
                f'<td class="txt"><b>{_e(fl.get("id"))}</b><br><small>'
                f"{_e(fl.get('vehicle_model', ''))} · {_e(fl.get('pack_model', ''))}</small></td>",
                _fmt(fl.get("trucks")),
                _pm(fl, "trips_per_day", 1),
                _fmt(fl.get("distance_km_per_day")),
                _fmt(fl.get("mean_delay_min"), 1),
                _fmt(fl.get("energy_kwh_per_km"), 2),
                _fmt(fl.get("cost_cny_per_km"), 2),
                _fmt(fl.get("diesel_cost_cny_per_km"), 2),
                _fmt(fl.get("swaps"), 1),
                f'<td class="txt warn">{_reasons(fl.get("wasted_trips_by_reason"))}</td>'
                if wasted > 0
                else "<td>0</td>",
                f'<td class="bad">{_fmt(stranded, 1)}</td>' if stranded > 0 else "<td>0</td>",
            ]
        )
    return _table(head, rows)


def _utilisation_rows(summary: Mapping[str, Any]) -> list[plots.Utilisation]:
    return [
        plots.Utilisation(
            station=str(st.get("id")),
            bay=_num(st.get("bay_utilisation")),
            charger=_num(st.get("charger_utilisation")),
            pack=_num(st.get("pack_utilisation")),
            bay_ci=_ci(st, "bay_utilisation"),
            charger_ci=_ci(st, "charger_utilisation"),
            pack_ci=_ci(st, "pack_utilisation"),
        )
        for st in _stations(summary)
    ]


_HOW_TO_READ = """
<dl>
<dt>Figures and intervals</dt>
<dd>Every figure is the mean over the replications (independent runs with different random
seeds) of the measured window, which starts after the warm-up. "±" is the half-width of the
95 % t-interval of that mean; with one replication it is unknown and left out. Shaded bands in
the time plots span the lowest to the highest replication.</dd>
<dt>Wait</dt>
<dd>From arrival at the station to the start of the swap: the queue for a bay plus any time in
the bay waiting for charged packs. p95: 95 % of swaps waited at most this long.</dd>
<dt>Utilisation</dt>
<dd><b>Bay</b>: share of bay time occupied by trucks (entering, swapping, leaving, waiting for
packs). <b>Charger</b>: share of charger-slot time spent drawing power. <b>Pack</b>: share of
the station's packs that are not sitting charged and idle on the rack, averaged over the
15-minute samples.</dd>
<dt>Grid peak and cap</dt>
<dd>The peak is the highest 15-minute mean grid power, the quantity a demand meter bills. The
cap is the power the connection can give the chargers (kVA × power factor minus the
station's own load); the twin never exceeds it. Amber: peak within 10 % of the cap.</dd>
<dt>Wasted trips</dt>
<dd>Visits that ended without a swap: <i>incompatible</i> (a driver who did not know the
station could not take the truck's packs), <i>no such packs</i> (the station holds fewer packs
of the model than the truck needs) and <i>stock out</i> (no charged pack within the driver's
patience). Counts cover the whole measured window.</dd>
<dt>Stranded</dt>
<dd>Trucks that found no station they could reach while keeping the reserve; a mobile charger
reaches them after a two-hour delay.</dd>
<dt>Money</dt>
<dd>Revenue is the energy delivered (energy in packs handed out minus energy in packs taken
back) at the scenario's all-in service price; energy cost is the grid energy at each
station's tariff. Payback is simple payback of the station's capex from revenue minus energy
cost minus opex per year; "none" when that yearly flow is not positive.</dd>
<dt>CO2</dt>
<dd>The fleets' distance driven on diesel against the grid energy behind the same distance
(traction energy / charger efficiency × the stated grid factor). The green-power figure
assumes zero-carbon electricity. Yearly figures scale the measured window to 365 days.</dd>
</dl>
"""


def render_report(summary: Mapping[str, Any], timeseries: pa.Table, events: pa.Table) -> str:
    """The `report.html` page of one simulation output (summary as `summarise` returns it or
    as `summary.json` stores it; tables as `report.tables` builds them)."""
    s: Mapping[str, Any] = to_json_ready(summary)
    scenario = _section(s, "scenario")
    stations = [str(st.get("id")) for st in _stations(s)]
    caps = {str(st.get("id")): _num(st.get("grid_cap_kw")) for st in _stations(s)}
    run = _section(s, "run")
    title = str(scenario.get("name") or scenario.get("id") or "Simulation")
    body = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">{_scenario_line(scenario)}</p>',
        f'<p class="lede">{_e(scenario.get("description", ""))}</p>'
        if scenario.get("description")
        else "",
        "<h2>Network</h2>",
        _cards(_headline_cards(s)),
        "<h2>Stations at a glance</h2>",
        _figure(
            plots.plot_utilisation(_utilisation_rows(s)),
            "Bay, charger and pack utilisation per station",
            "Utilisation per station: bay, charger and pack (error bars: 95 % interval).",
        ),
        _figure(
            plots.plot_wait_ecdf(events, stations),
            "Distribution of swap waits per station",
            "Wait from arrival to the start of the swap, per station, all replications pooled: "
            "read a curve as “this share of swaps waited at most x minutes”. "
            "Curves further left are better.",
        ),
        "<h2>Station table</h2>",
        _station_table(s),
        "<h2>Grid load against the cap</h2>",
        _figure(
            plots.plot_grid_load(timeseries, stations, caps),
            "Grid power per station against its grid cap over time",
            "Mean grid power per 15-minute interval (line: mean over replications; band: their "
            "range) against the station's grid cap (dashed).",
        ),
        "<h2>Charged packs on the rack</h2>",
        _figure(
            plots.plot_stock(timeseries, stations),
            "Charged pack stock per station over time",
            "Charged packs ready to swap, sampled every 15 minutes (dotted: all packs on site). "
            "A line at zero means trucks wait for packs.",
        ),
        "<h2>Fleets</h2>",
        _fleet_table(s),
        "<h2>How to read this</h2>",
        _HOW_TO_READ,
        f'<p class="meta">Simulated {_fmt(run.get("swaps_simulated"))} swaps with '
        f"{_fmt(run.get('events_fired'))} events over all replications.</p>",
    ]
    return _page(f"openswap: {title}", "\n".join(part for part in body if part))


# --- two runs ---------------------------------------------------------------------------------


def _weighted(summary: Mapping[str, Any], key: str, weight: str) -> float:
    """Station mean of `key` weighted by `weight` (e.g. pack utilisation by packs)."""
    num = den = 0.0
    for st in _stations(summary):
        v, w = _num(st.get(key)), _num(st.get(weight))
        if math.isfinite(v) and math.isfinite(w) and w > 0:
            num += v * w
            den += w
    return num / den if den > 0 else math.nan


def _station_sum(summary: Mapping[str, Any], key: str) -> float:
    values = [_num(st.get(key)) for st in _stations(summary)]
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) if finite else math.nan


def _station_max(summary: Mapping[str, Any], key: str) -> float:
    finite = [v for v in (_num(st.get(key)) for st in _stations(summary)) if math.isfinite(v)]
    return max(finite) if finite else math.nan


@dataclass(frozen=True, slots=True)
class Metric:
    """A network-level figure of a summary, as the comparison shows and explains it."""

    key: str
    label: str
    value: Callable[[Mapping[str, Any]], float]
    kind: str  # "count", "fraction", "minutes", "cny", "kw", "t", "rate"
    digits: int = 0


def _net(key: str) -> Callable[[Mapping[str, Any]], float]:
    return lambda s: _num(_section(s, "network").get(key))


METRICS: tuple[Metric, ...] = (
    Metric("stations", "Stations", lambda s: float(len(_stations(s))), "count"),
    Metric("packs", "Packs in the network", _net("packs"), "count"),
    Metric("trucks", "Trucks", _net("trucks"), "count"),
    Metric("swaps_per_day", "Swaps per day", _net("swaps_per_day"), "rate", 1),
    Metric("wasted_trips", "Wasted trips", _net("wasted_trips"), "count", 1),
    Metric(
        "incompatible",
        "… at stations that could not take the packs",
        lambda s: _reason_total(s, "incompatible"),
        "count",
        1,
    ),
    Metric(
        "stock_out",
        "… that found no charged pack",
        lambda s: _reason_total(s, "stock_out"),
        "count",
        1,
    ),
    Metric("stranded", "Stranded trucks", _net("stranded"), "count", 1),
    Metric(
        "pack_utilisation",
        "Pack utilisation",
        lambda s: _weighted(s, "pack_utilisation", "packs"),
        "fraction",
    ),
    Metric(
        "bay_utilisation",
        "Bay utilisation",
        lambda s: _weighted(s, "bay_utilisation", "arrivals_per_day"),
        "fraction",
    ),
    Metric(
        "charger_utilisation",
        "Charger utilisation",
        lambda s: _weighted(s, "charger_utilisation", "slots"),
        "fraction",
    ),
    Metric(
        "mean_wait_min",
        "Mean wait for a swap",
        lambda s: _weighted(s, "mean_wait_min", "swaps_per_day"),
        "minutes",
        1,
    ),
    Metric(
        "p95_wait_min",
        "Worst station's p95 wait",
        lambda s: _station_max(s, "p95_wait_min"),
        "minutes",
        1,
    ),
    Metric(
        "grid_peak_kw",
        "Summed station grid peaks",
        lambda s: _station_sum(s, "grid_peak_kw"),
        "kw",
    ),
    Metric("energy_kwh_per_km", "Energy use", _net("energy_kwh_per_km"), "kwh_per_km", 2),
    Metric("revenue_cny_per_day", "Revenue per day", _net("revenue_cny_per_day"), "cny"),
    Metric(
        "energy_cost_cny_per_day", "Energy cost per day", _net("energy_cost_cny_per_day"), "cny"
    ),
    Metric("co2_saved_t_per_year", "CO2 saved per year", _net("co2_saved_t_per_year"), "t"),
)
_UNITS = {"minutes": "min", "cny": "CNY", "kw": "kW", "t": "t", "kwh_per_km": "kWh/km"}


def _show(metric: Metric, value: float) -> str:
    if metric.kind == "fraction":
        return _pct(value)
    return _fmt(value, metric.digits, _UNITS.get(metric.kind, ""))


def _relative(a: float, b: float) -> float:
    return (b - a) / abs(a) if math.isfinite(a) and math.isfinite(b) and a != 0 else math.nan


def _delta_cells(metric: Metric, a: float, b: float) -> tuple[str, str]:
    if not (math.isfinite(a) and math.isfinite(b)):
        return DASH, DASH
    d = b - a
    if metric.kind == "fraction":
        absolute = f"{d * 100:+.1f} pp"
    else:
        absolute = f"{d:+,.{max(metric.digits, 1) if abs(d) < 10 else metric.digits}f}"
    if float(absolute.rstrip(" p").replace(",", "")) == 0.0:
        absolute = "0"
    rel = _relative(a, b)
    if not math.isfinite(rel):
        return absolute, DASH
    return absolute, ("0 %" if round(rel * 100) == 0 else f"{rel * 100:+.0f} %")


def _comparison_table(sa: Mapping[str, Any], sb: Mapping[str, Any], la: str, lb: str) -> str:
    rows = []
    for m in METRICS:
        a, b = m.value(sa), m.value(sb)
        absolute, rel = _delta_cells(m, a, b)
        rows.append(
            [
                f'<td class="txt">{_e(m.label)}</td>',
                _show(m, a),
                _show(m, b),
                absolute,
                rel,
            ]
        )
    return _table(["Network figure", _e(la), _e(lb), "Δ (B − A)", "Δ %"], rows)


def _count_phrase(n: float) -> str:
    """A mean count in words-ready form: whole numbers without decimals."""
    return _fmt(n, 0) if abs(n - round(n)) < 0.05 else _fmt(n, 1)


def explain_differences(
    a: Mapping[str, Any], b: Mapping[str, Any], label_a: str, label_b: str
) -> str:
    """A plain-language paragraph on how run B differs from run A, written from the numbers:
    only differences of at least 5 % (2 percentage points for shares, one event for counts)
    are mentioned, each with both values."""
    a = to_json_ready(a)
    b = to_json_ready(b)
    sentences: list[str] = []
    days_a, days_b = _days(a), _days(b)
    same_window = math.isclose(days_a, days_b) if math.isfinite(days_a + days_b) else False

    def value(key: str, s: Mapping[str, Any]) -> float:
        metric = next(m for m in METRICS if m.key == key)
        return metric.value(s)

    def changed(x: float, y: float, *, fraction: bool = False, count: bool = False) -> bool:
        if not (math.isfinite(x) and math.isfinite(y)):
            return False
        if fraction:
            return abs(y - x) >= 0.02
        if count:
            return abs(y - x) >= 1.0
        rel = _relative(x, y)
        return abs(rel) >= 0.05 if math.isfinite(rel) else y != x

    n_a, n_b = value("stations", a), value("stations", b)
    if n_a != n_b:
        sentences.append(
            f"The {label_b} network has {_fmt(n_b)} stations, the {label_a} network "
            f"{_fmt(n_a)} ({_fmt(value('packs', b))} and {_fmt(value('packs', a))} packs in all)."
        )

    sa, sb = value("swaps_per_day", a), value("swaps_per_day", b)
    if changed(sa, sb):
        rel = _relative(sa, sb)
        noise = math.hypot(
            _ci(_section(a, "network"), "swaps_per_day"),
            _ci(_section(b, "network"), "swaps_per_day"),
        )
        caveat = (
            ", a difference within the run-to-run noise of these replications"
            if math.isfinite(noise) and abs(sb - sa) <= noise
            else ""
        )
        sentences.append(
            f"Compared with {label_a}, {label_b} served {abs(rel) * 100:.0f} % "
            f"{'fewer' if rel < 0 else 'more'} swaps per day ({_fmt(sb, 0)} against "
            f"{_fmt(sa, 0)}){caveat}."
        )
    elif math.isfinite(sa) and math.isfinite(sb):
        sentences.append(
            f"Both served about the same number of swaps per day ({_fmt(sa, 0)} and {_fmt(sb, 0)})."
        )

    def counted(n: float, days: float) -> float:
        return n if same_window or not days > 0 else n / days

    scope = f"over the {_days_phrase(days_a)}" if same_window else "a day"
    for key, text in (
        ("incompatible", "trucks arrived at stations that could not take their packs"),
        ("stock_out", "trucks left a station because no charged pack was ready in time"),
        ("stranded", "times a truck was stranded with no station in reach"),
    ):
        x, y = counted(value(key, a), days_a), counted(value(key, b), days_b)
        if changed(x, y, count=True):
            sentences.append(
                f"In {label_b}, {_count_phrase(y)} {text} {scope} ({label_a}: {_count_phrase(x)})."
            )

    for key, noun in (
        ("pack_utilisation", "Pack utilisation"),
        ("bay_utilisation", "Bay utilisation"),
        ("charger_utilisation", "Charger utilisation"),
    ):
        x, y = value(key, a), value(key, b)
        if changed(x, y, fraction=True):
            verb = "fell" if y < x else "rose"
            sentences.append(f"{noun} {verb} from {_pct(x)} to {_pct(y)}.")

    for key, noun, unit, digits in (
        ("mean_wait_min", "The mean wait for a swap", "minutes", 0),
        ("p95_wait_min", "The worst station's 95th-percentile wait", "minutes", 0),
        ("grid_peak_kw", "The stations' summed grid peaks", "kW", 0),
        ("energy_cost_cny_per_day", "Energy cost", "CNY a day", 0),
        ("revenue_cny_per_day", "Revenue", "CNY a day", 0),
        ("co2_saved_t_per_year", "CO2 saved against diesel", "t a year", 0),
    ):
        x, y = value(key, a), value(key, b)
        if changed(x, y) and (abs(y - x) >= 0.5 if digits == 0 else True):
            verb = "fell" if y < x else "rose"
            sentences.append(
                f"{noun} {verb} from {_fmt(x, digits)} to {_fmt(y, digits)} {unit} "
                f"({_relative(x, y) * 100:+.0f} %)."
                if math.isfinite(_relative(x, y))
                else f"{noun} {verb} from {_fmt(x, digits)} to {_fmt(y, digits)} {unit}."
            )

    if not sentences or (len(sentences) == 1 and sentences[0].startswith("Both")):
        sentences.append("No other headline figure differs by more than 5 %.")
    return " ".join(sentences)


def _run_wasted(summary: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for st in _stations(summary):
        counts = st.get("wasted_trips_by_reason")
        out[str(st.get("id"))] = (
            {str(k): _num(v) for k, v in counts.items() if math.isfinite(_num(v))}
            if isinstance(counts, Mapping)
            else {}
        )
    return out


def _station_pair_table(
    sa: Mapping[str, Any], sb: Mapping[str, Any], label_a: str, label_b: str
) -> str:
    """Per station (A's order, then stations only B has): key figures of both runs."""
    rows_a = {str(st.get("id")): st for st in _stations(sa)}
    rows_b = {str(st.get("id")): st for st in _stations(sb)}
    ids = list(dict.fromkeys([*rows_a, *rows_b]))
    absent = f"<td><small>{DASH}</small></td>"
    fields: tuple[tuple[str, Callable[[Mapping[str, Any]], str]], ...] = (
        ("Swaps/day", lambda st: _fmt(st.get("swaps_per_day"), 1)),
        ("Pack", lambda st: _util_cell(st.get("pack_utilisation"))),
        ("Bay", lambda st: _util_cell(st.get("bay_utilisation"))),
        ("Wait mean<br><small>min</small>", lambda st: _fmt(st.get("mean_wait_min"), 1)),
        ("Wasted trips", lambda st: _fmt(st.get("wasted_trips"), 1)),
    )
    head = ["Station"]
    for name, _ in fields:
        head += [
            f"{name}<br><small>{_e(label_a)}</small>",
            f"{name}<br><small>{_e(label_b)}</small>",
        ]
    rows = []
    for sid in ids:
        row = [f'<td class="txt"><b>{_e(sid)}</b></td>']
        for _, show in fields:
            for side in (rows_a, rows_b):
                st = side.get(sid)
                row.append(show(st) if st is not None else absent)
        rows.append(row)
    return _table(head, rows)


def render_comparison(a: Run, b: Run, label_a: str, label_b: str) -> str:
    """The `comparison.html` page of two simulation outputs, B read against A."""
    sa: Mapping[str, Any] = to_json_ready(a[0])
    sb: Mapping[str, Any] = to_json_ready(b[0])
    ts_a, ev_a = a[1], a[2]
    ts_b, ev_b = b[1], b[2]
    title = f"{label_a} vs {label_b}"
    body = [
        f"<h1>Comparison: {_e(label_a)} vs {_e(label_b)}</h1>",
        f'<p class="meta">A, <b>{_e(label_a)}</b>: {_e(_section(sa, "scenario").get("name", ""))}'
        f"<br>{_scenario_line(_section(sa, 'scenario'))}</p>",
        f'<p class="meta">B, <b>{_e(label_b)}</b>: {_e(_section(sb, "scenario").get("name", ""))}'
        f"<br>{_scenario_line(_section(sb, 'scenario'))}</p>",
        "<h2>What changed</h2>",
        f'<p class="explain">{_e(explain_differences(sa, sb, label_a, label_b))}</p>',
        "<h2>Network figures</h2>",
        _comparison_table(sa, sb, label_a, label_b),
        "<h2>Stations</h2>",
        _station_pair_table(sa, sb, label_a, label_b),
        _figure(
            plots.plot_utilisation_pair(
                _utilisation_rows(sa), _utilisation_rows(sb), label_a, label_b
            ),
            f"Utilisation per station, {label_a} and {label_b}",
            "Bay, charger and pack utilisation per station, the two runs on one scale.",
        ),
        _figure(
            plots.plot_wasted_pair(_run_wasted(sa), _run_wasted(sb), label_a, label_b),
            f"Wasted trips per station by reason, {label_a} and {label_b}",
            "Wasted trips per station by reason (mean per replication over the measured window).",
        ),
        "<h2>Waits and grid load</h2>",
        _figure(
            plots.plot_wait_pair(ev_a, ev_b, label_a, label_b),
            f"Distribution of swap waits, {label_a} against {label_b}",
            "Wait from arrival to the start of the swap over all stations: the share of swaps "
            "that waited at most x minutes. Further left is better.",
        ),
        _figure(
            plots.plot_network_grid_pair(ts_a, ts_b, label_a, label_b),
            f"Total station grid power over time, {label_a} against {label_b}",
            "Grid power of all stations together per 15-minute interval (band: range over "
            "replications). The stations' peaks need not coincide, so this peak can be lower "
            "than the summed station peaks in the table.",
        ),
        "<h2>How to read this</h2>",
        "<p>Δ is B minus A; Δ % is relative to A; shares change in percentage points (pp). "
        "Network utilisation weights each station: packs by packs on site, bays by arrivals, "
        "chargers by slots; the mean wait weights stations by swaps. The explanation mentions "
        "only differences of at least 5 % (2 pp for shares, one event for counts).</p>",
        _HOW_TO_READ,
    ]
    return _page(f"openswap: {title}", "\n".join(body))
