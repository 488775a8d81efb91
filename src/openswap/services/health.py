"""Pack health use cases: telemetry ingest with streaming detection and quarantine, periodic
health estimates (PackInspected), storage maintenance, and pack and fleet health reports.

`HealthService.ingest(items)` never stops for bad input: it validates the batch (rejections go
to the dead-letter table with every reason), stores the valid readings (idempotent on
(serial, time), one transaction), feeds the new, in-order readings to per-pack detectors kept in
a bounded registry (least recently used packs are evicted and re-warmed from storage when they
return), and on a critical alarm quarantines the pack through `custody.quarantine_pack` (custody,
compatibility interlock via the safety state, outbox PackQuarantined with the alarm kind as the
reason), exactly once per alarm (its idempotency key names the alarm). When `ingest` returns,
the batch is durable and acted upon: an adapter acknowledges its messages only then.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from openswap.domain.errors import InvalidTransitionError, NotFoundError, OpenswapError
from openswap.health.ageing import AgeingFit, EolForecast, UsageHistory, fit_ageing, soh_curve
from openswap.health.batch import assemble
from openswap.health.detection import (
    Alarm,
    DetectorConfig,
    PackLimits,
    PackMonitor,
    clean_telemetry,
)
from openswap.health.estimation import estimate_capacity, estimate_resistance
from openswap.health.reports import (
    FleetHealthReport,
    PackHealthSummary,
    SohPoint,
    build_fleet_report,
)
from openswap.health.telemetry import PackTelemetry
from openswap.services.custody import QuarantinePack, quarantine_pack
from openswap.services.model import SYSTEM_ACTOR
from openswap.services.operations import OperationsContext, PackEvent, record_event, transact
from openswap.services.ports import UnitOfWork
from openswap.services.telemetry import (
    SECONDS_PER_DAY,
    DeadLetter,
    HealthEstimate,
    MaintenanceCounts,
    PackBatch,
    PackInfo,
    TelemetryStore,
)

log = logging.getLogger("openswap.health")
MAX_ID_LENGTH = 64
MAX_PAYLOAD_TEXT = 16_384
# A capacity estimate outside this range says the pack model's data (series cells, capacity)
# do not match the pack: it is stored for inspection but never written into the pack's state.
PLAUSIBLE_SOH = (0.3, 1.2)


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    """Tunables of the health service [engineering choices, see docs/design/health.md]."""

    max_monitored_packs: int = 50_000  # detector registry bound (LRU)
    warmup_s: float = 900.0  # stored history replayed into a (re)created detector
    unknown_pack_ttl_s: float = 60.0  # how long "not a registered pack" is believed
    estimate_window_s: float = 86_400.0
    retain_raw_days: int = 30
    # New pack's 1-second resistance at 25 °C per pack model id; else the pack's first estimate.
    r_new_ohm: Mapping[str, float] = field(default_factory=dict)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    forecast_draws: int = 200
    seed: int = 20261124  # forecast Monte Carlo


@dataclass(frozen=True, slots=True)
class IngestItem:
    """One input: a JSON text or bytes (an object, or an array of objects), a mapping, or a
    `Reading`; where it came from (`mqtt:<topic>`, `http`, `file:<name>:<line>`); and, from an
    MQTT topic, the station and pack it was published under."""

    payload: object
    source: str
    station_id: str | None = None
    serial: str | None = None


@dataclass(frozen=True, slots=True)
class IngestResult:
    received: int  # readings in the input (array elements counted one by one)
    stored: int  # new rows (duplicates of stored (serial, time) are not counted)
    duplicates: int
    rejected: int  # dead letters written
    late: int  # stored but not analysed: out of order, repeated, or another probe layout
    alarms: tuple[Alarm, ...] = ()
    quarantined: tuple[str, ...] = ()
    reasons: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (source, reasons), first 20

    def to_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "late": self.late,
            "alarms": [a.to_dict() for a in self.alarms],
            "quarantined": list(self.quarantined),
            "rejections": [{"source": s, "reasons": list(r)} for s, r in self.reasons],
        }


@dataclass(frozen=True, slots=True)
class PackHealthReport:
    """A pack's health report: the engine's summary (SoH series, forecast band, EOL, alarms)
    plus the edge-to-centre spread per hour from the minute aggregates."""

    summary: PackHealthSummary
    spread_hourly: tuple[tuple[float, float, float], ...]  # (hour start s, mean °C, max °C)
    safety_state: str
    quarantined_by: tuple[str, ...]  # alarm kinds that quarantined it

    def to_dict(self) -> dict[str, Any]:
        out = self.summary.to_dict()
        out["resistance"] = [p.to_dict() for p in self.summary.resistance]
        out["temperature_spread"] = [
            {"time_s": t, "mean_c": _json_float(m), "max_c": _json_float(x)}
            for t, m, x in self.spread_hourly
        ]
        out["safety_state"] = self.safety_state
        out["quarantined_by"] = list(self.quarantined_by)
        cleaned: dict[str, Any] = json_safe(out)
        return cleaned


def _json_float(x: float) -> float | None:
    return x if math.isfinite(x) else None


def json_safe(x: Any) -> Any:
    """NaN and infinities become None (JSON has neither)."""
    if isinstance(x, float):
        return _json_float(x)
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [json_safe(v) for v in x]
    return x


def payload_text(payload: object) -> str:
    """The raw input of a dead letter as text (JSON where possible), cut to a bounded size."""
    if isinstance(payload, bytes | bytearray | memoryview):
        s = bytes(payload).decode("utf-8", errors="replace")
    elif isinstance(payload, str):
        s = payload
    else:
        try:
            s = json.dumps(payload, default=repr, allow_nan=True)
        except (TypeError, ValueError, RecursionError):
            s = repr(payload)
    return s[:MAX_PAYLOAD_TEXT]


def _id_ok(value: str) -> bool:
    return 0 < len(value) <= MAX_ID_LENGTH and value.isprintable() and "\x00" not in value


class _Registry:
    """Per-pack detectors, least recently used evicted beyond `capacity`."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.monitors: OrderedDict[str, PackMonitor] = OrderedDict()
        self.evicted = 0

    def get(self, serial: str) -> PackMonitor | None:
        mon = self.monitors.get(serial)
        if mon is not None:
            self.monitors.move_to_end(serial)
        return mon

    def put(self, serial: str, mon: PackMonitor) -> None:
        self.monitors[serial] = mon
        self.monitors.move_to_end(serial)
        while len(self.monitors) > self.capacity:
            self.monitors.popitem(last=False)
            self.evicted += 1

    def __len__(self) -> int:
        return len(self.monitors)


def _take(tel: PackTelemetry, idx: np.ndarray[Any, Any]) -> PackTelemetry:
    """Rows `idx` (increasing times) of `tel`, with the per-cell frames at those times."""
    cell_t, cell_v = tel.cell_time_s, tel.cell_v
    if cell_t is not None and cell_v is not None:
        t = tel.time_s[idx]
        keep = np.isin(cell_t, t)
        # one frame per time, in increasing time (frames may repeat with duplicate readings)
        ct = cell_t[keep]
        first = np.concatenate(([True], np.diff(ct) > 0)) if ct.size else np.zeros(0, bool)
        cell_t, cell_v = ct[first], cell_v[keep][first]
        if cell_t.size == 0:
            cell_t = cell_v = None
    return PackTelemetry(
        serial=tel.serial,
        time_s=tel.time_s[idx],
        soc=tel.soc[idx],
        voltage_v=tel.voltage_v[idx],
        current_a=tel.current_a[idx],
        cell_v_min=tel.cell_v_min[idx],
        cell_v_max=tel.cell_v_max[idx],
        temps_c=np.ascontiguousarray(tel.temps_c[:, idx]),
        temp_positions=tel.temp_positions,
        insulation_ohm=tel.insulation_ohm[idx],
        alarm_flags=tel.alarm_flags[idx],
        cell_time_s=cell_t,
        cell_v=cell_v,
        coolant_in_c=None if tel.coolant_in_c is None else tel.coolant_in_c[idx],
        coolant_out_c=None if tel.coolant_out_c is None else tel.coolant_out_c[idx],
    )


class HealthService:
    """Ingest, detection, quarantine, estimates, maintenance and reports (see the module doc).

    Thread-safe: concurrent `ingest` calls are serialised around the detector registry (the
    database writes themselves run outside that lock)."""

    def __init__(
        self,
        ops: OperationsContext,
        store: TelemetryStore,
        policy: HealthPolicy | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ops = ops
        self.store = store
        self.policy = policy or HealthPolicy()
        self._registry = _Registry(self.policy.max_monitored_packs)
        self._known: OrderedDict[str, PackInfo] = OrderedDict()
        self._unknown: dict[str, float] = {}
        self._monotonic = monotonic
        self._lock = threading.Lock()

    # -- ingest ---------------------------------------------------------------------------------

    def ingest(self, items: Sequence[IngestItem]) -> IngestResult:
        """Validate, store, detect and act on one batch (see the module docstring)."""
        now = self.ops.now()
        flat: list[object] = []
        origin: list[IngestItem] = []
        dead: list[DeadLetter] = []
        for item in items:
            self._expand(item, flat, origin, dead, now)
        undecoded = len(dead)
        batch = assemble(flat)
        for rej in batch.rejected:
            src = origin[rej.index]
            dead.append(
                DeadLetter(
                    now, src.source, payload_text(rej.item), rej.reasons, _serial_of(rej.item)
                )
            )
        serials = sorted({tel.serial for tel, _ in batch.packs})
        known = self._pack_info(serials)
        pack_batches: list[PackBatch] = []
        for tel, idx in batch.packs:
            if tel.serial not in known:
                for i in idx.tolist():
                    dead.append(
                        DeadLetter(
                            now,
                            origin[i].source,
                            payload_text(flat[i]),
                            (f"serial: {tel.serial!r} is not a registered pack",),
                            tel.serial,
                        )
                    )
                continue
            # one station per batch entry: split rows by the station they were published under
            stations = [origin[i].station_id for i in idx.tolist()]
            for station in sorted(set(stations), key=lambda s: s or ""):
                rows = np.array([k for k, s in enumerate(stations) if s == station], dtype=np.intp)
                part = tel if rows.size == len(tel) else _take_unordered(tel, rows)
                pack_batches.append(PackBatch(part, station))
        counts = self.store.write(pack_batches, dead)
        accepted = sum(len(b.telemetry) for b in pack_batches)
        alarms, late = self._detect(pack_batches, known)
        quarantined = self._act(alarms, now)
        return IngestResult(
            received=len(flat) + undecoded,
            stored=counts.readings,
            duplicates=accepted - counts.readings,
            rejected=counts.dead_letters,
            late=late,
            alarms=tuple(alarms),
            quarantined=tuple(quarantined),
            reasons=tuple((d.source, d.reasons) for d in dead[:20]),
        )

    def _expand(
        self,
        item: IngestItem,
        flat: list[object],
        origin: list[IngestItem],
        dead: list[DeadLetter],
        now: datetime,
    ) -> None:
        """Decode one input into readings (or dead letters), checking the topic's ids."""
        payload = item.payload
        for name, value in (("station", item.station_id), ("pack", item.serial)):
            if value is not None and not _id_ok(value):
                dead.append(
                    DeadLetter(
                        now,
                        item.source[:400],
                        payload_text(payload),
                        (f"{name} id in the topic is not a valid id",),
                        None,
                    )
                )
                return
        if isinstance(payload, bytes | bytearray | memoryview | str):
            try:
                payload = json.loads(bytes(payload) if isinstance(payload, memoryview) else payload)
            except (ValueError, UnicodeDecodeError, RecursionError) as e:
                dead.append(
                    DeadLetter(
                        now,
                        item.source,
                        payload_text(item.payload),
                        (f"json: not valid JSON ({e})",),
                        item.serial,
                    )
                )
                return
        elements = payload if isinstance(payload, list) else [payload]
        for el in elements:
            if item.serial is not None and isinstance(el, Mapping):
                given = el.get("serial", item.serial)
                if given != item.serial:
                    dead.append(
                        DeadLetter(
                            now,
                            item.source,
                            payload_text(el),
                            (
                                f"serial: {given!r} in the payload differs from the topic's "
                                f"{item.serial!r}",
                            ),
                            item.serial,
                        )
                    )
                    continue
                if "serial" not in el:
                    el = {**el, "serial": item.serial}
            flat.append(el)
            origin.append(item)

    def _pack_info(self, serials: Sequence[str]) -> dict[str, PackInfo]:
        mono = self._monotonic()
        out: dict[str, PackInfo] = {}
        ask: list[str] = []
        for s in serials:
            info = self._known.get(s)
            if info is not None:
                out[s] = info
            elif self._unknown.get(s, -math.inf) + self.policy.unknown_pack_ttl_s > mono:
                continue
            else:
                ask.append(s)
        if ask:
            found = self.store.pack_info(ask)
            for s in ask:
                if s in found:
                    out[s] = self._known[s] = found[s]
                    self._unknown.pop(s, None)
                else:
                    self._unknown[s] = mono
            while len(self._known) > self.policy.max_monitored_packs:
                self._known.popitem(last=False)
            if len(self._unknown) > self.policy.max_monitored_packs:
                self._unknown.clear()  # a flood of strangers: forget them all, ask again later
        return out

    def _limits(self, info: PackInfo) -> PackLimits:
        base = PackLimits()
        return replace(
            base,
            n_series=info.cells_in_series or base.n_series,
            max_working_voltage_v=info.max_voltage_v
            if math.isfinite(info.max_voltage_v) and info.max_voltage_v > 0
            else base.max_working_voltage_v,
        )

    def _detect(
        self, batches: Sequence[PackBatch], known: Mapping[str, PackInfo]
    ) -> tuple[list[Alarm], int]:
        alarms: list[Alarm] = []
        late = 0
        with self._lock:
            for b in batches:
                tel = b.telemetry
                mon = self._registry.get(tel.serial)
                if mon is None:
                    mon = PackMonitor(
                        tel.serial, self._limits(known[tel.serial]), self.policy.detector
                    )
                    self._registry.put(tel.serial, mon)
                    alarms += self._warm_up(mon, float(tel.time_s[0]))
                if mon.positions is not None and mon.positions != tel.temp_positions:
                    late += len(tel)
                    continue
                t = tel.time_s
                before = np.maximum.accumulate(np.concatenate(([mon.last_time_s], t[:-1])))
                keep = np.flatnonzero(t > before)
                late += len(tel) - int(keep.size)
                if keep.size == 0:
                    continue
                mon.positions = tel.temp_positions
                alarms += mon.process(tel if keep.size == len(tel) else _take(tel, keep))
        alarms.sort(key=lambda a: a.detected_time_s)
        return alarms, late

    def _warm_up(self, mon: PackMonitor, first_time_s: float) -> list[Alarm]:
        """Replay the stored minutes before `first_time_s` into a new detector, so rules that
        span batches (a rising temperature, a held condition) see their start after a restart
        or an eviction. Alarms it raises again are deduplicated when stored and acted on once."""
        if self.policy.warmup_s <= 0:
            return []
        try:
            tel = self.store.window(mon.serial, first_time_s - self.policy.warmup_s, first_time_s)
        except Exception:  # history is a help, not a precondition
            log.exception("warm-up of %s failed", mon.serial)
            return []
        if tel is None or len(tel) == 0:
            return []
        mon.positions = tel.temp_positions
        return mon.process(tel)

    def _act(self, alarms: Sequence[Alarm], now: datetime) -> list[str]:
        """Quarantine on critical alarms (once per alarm), then store every alarm."""
        quarantined: list[str] = []
        acted: set[int] = set()
        for i, a in enumerate(alarms):
            if not a.quarantine:
                continue
            key = f"health:{a.serial}:{a.kind}:{a.subject}:{a.detected_time_s!r}"[:255]
            try:
                quarantine_pack(self.ops, SYSTEM_ACTOR, QuarantinePack(a.serial, str(a.kind)), key)
                acted.add(i)
                if a.serial not in quarantined:
                    quarantined.append(a.serial)
                info = self._known.get(a.serial)
                if info is not None:
                    self._known[a.serial] = replace(info, safety_state="quarantined")
            except (InvalidTransitionError, NotFoundError):
                pass  # already quarantined (another alarm) or retired: nothing to do
            except OpenswapError:
                log.exception("quarantine of %s on %s failed", a.serial, a.kind)
        self.store.add_alarms(alarms, now, acted)
        return quarantined

    # -- estimates ------------------------------------------------------------------------------

    def estimate_health(
        self, *, end_s: float | None = None, serials: Sequence[str] | None = None
    ) -> list[HealthEstimate]:
        """Run the capacity and resistance estimators over each pack's stored window ending at
        `end_s` (default now), store the estimates, and write per pack one PackInspected outbox
        event with the pack's new measured state (SoH, insulation, temperature spread) in the
        same transaction. Packs without usable data are skipped."""
        now = self.ops.now()
        end = now.timestamp() if end_s is None else end_s
        start = end - self.policy.estimate_window_s
        wanted = (
            list(serials) if serials is not None else self.store.serials_with_readings(start, end)
        )
        infos = self.store.pack_info(wanted)
        out = []
        for serial in wanted:
            info = infos.get(serial)
            if info is None:
                continue
            est = self._estimate_one(info, start, end, now)
            if est is not None:
                out.append(est)
        return out

    def _estimate_one(
        self, info: PackInfo, start: float, end: float, now: datetime
    ) -> HealthEstimate | None:
        tel = self.store.window(info.serial, start, end)
        if tel is None or len(tel) < 2:
            return None
        tel, _ = clean_telemetry(tel)
        if len(tel) < 2:
            return None
        cap = estimate_capacity(tel, info.rated_capacity_ah, info.cells_in_series)
        plausible = cap.usable and PLAUSIBLE_SOH[0] <= cap.soh <= PLAUSIBLE_SOH[1]
        r_new = self.policy.r_new_ohm.get(info.model_id)
        if r_new is None:
            earlier = [e.resistance_ohm for e in self.store.estimates(info.serial)]
            earlier = [r for r in earlier if math.isfinite(r)]
            r_new = earlier[0] if earlier else math.nan
        res = estimate_resistance(tel, info.rated_capacity_ah, 1.0)
        r = res.r_pack_25c_ohm
        if math.isnan(r_new):
            r_new = r  # first estimate of this pack: it is its own reference
        spread = float(np.max(tel.temps_c.max(axis=0) - tel.temps_c.min(axis=0)))
        ins = float(np.min(tel.insulation_ohm))
        est = HealthEstimate(
            serial=info.serial,
            time_s=float(tel.time_s[-1]),
            window_start_s=float(tel.time_s[0]),
            capacity_soh=cap.soh,
            capacity_soh_low=cap.soh_low,
            capacity_soh_high=cap.soh_high,
            resistance_ohm=r,
            resistance_soh=r_new / r if r > 0 else math.nan,
            resistance_soh_low=r_new / res.r_high_ohm if res.r_high_ohm > 0 else math.nan,
            resistance_soh_high=r_new / res.r_low_ohm if res.r_low_ohm > 0 else math.nan,
            max_spread_c=spread,
            min_insulation_ohm=ins,
            estimated_at=now,
        )
        if not (cap.usable or math.isfinite(r)):
            return None
        self.store.add_estimate(est)

        def body(uow: UnitOfWork) -> None:
            rec = uow.packs.get(info.serial, for_update=True)
            if rec is None:
                return
            p = rec.pack
            soh = min(cap.soh, 1.0) if plausible else p.soh
            uow.packs.set_state(
                replace(p, soh=soh, insulation_resistance_ohm=ins, max_cell_temp_spread_c=spread)
            )
            record_event(
                self.ops,
                uow,
                PackEvent.INSPECTED,
                info.serial,
                {
                    "soh": soh,
                    "insulation_resistance_ohm": ins,
                    "max_cell_temp_spread_c": spread,
                    "cycle_count": p.cycle_count,
                    "capacity_estimated": plausible,
                    "capacity_soh_low": _json_float(cap.soh_low),
                    "capacity_soh_high": _json_float(cap.soh_high),
                    "resistance_soh": _json_float(est.resistance_soh),
                    "window_start_s": est.window_start_s,
                    "window_end_s": est.time_s,
                    "method": "field_estimate",
                },
                now,
            )

        transact(self.ops, body)
        return est

    # -- maintenance ----------------------------------------------------------------------------

    def maintain(self) -> MaintenanceCounts:
        """Downsample what was written since the last run; drop raw days past the retention."""
        today = math.floor(self.ops.now().timestamp() / SECONDS_PER_DAY)
        return self.store.maintain(retain_raw_days=self.policy.retain_raw_days, today=today)

    # -- reports --------------------------------------------------------------------------------

    def pack_report(self, serial: str) -> PackHealthReport:
        """One pack's health report. Raises `NotFoundError` for an unknown pack."""
        info = self.store.pack_info([serial]).get(serial)
        if info is None:
            raise NotFoundError("pack", serial)
        ests = self.store.estimates(serial)
        capacity = tuple(
            SohPoint(e.time_s, e.capacity_soh, e.capacity_soh_low, e.capacity_soh_high)
            for e in ests
            if math.isfinite(e.capacity_soh)
        )
        resistance = tuple(
            SohPoint(e.time_s, e.resistance_soh, e.resistance_soh_low, e.resistance_soh_high)
            for e in ests
            if math.isfinite(e.resistance_soh)
        )
        band, eol = self._forecast(info, capacity)
        stored = self.store.alarms(serial, limit=200)
        spreads = [e.max_spread_c for e in ests if math.isfinite(e.max_spread_c)]
        hourly = self._spread_hourly(serial, ests)
        summary = PackHealthSummary(
            serial=serial,
            maker=info.maker,
            model=info.model_id,
            capacity=capacity,
            resistance=resistance,
            forecast_band=band,
            eol=eol,
            max_spread_c=max(spreads) if spreads else math.nan,
            alarms=tuple(s.alarm for s in stored),
        )
        return PackHealthReport(
            summary,
            hourly,
            info.safety_state,
            tuple(dict.fromkeys(str(s.alarm.kind) for s in stored if s.quarantined)),
        )

    def _spread_hourly(
        self, serial: str, ests: Sequence[HealthEstimate]
    ) -> tuple[tuple[float, float, float], ...]:
        if ests:
            start, end = ests[0].window_start_s, ests[-1].time_s + 1.0
        else:
            end = self.ops.now().timestamp()
            start = end - self.policy.estimate_window_s
        hours: dict[int, list[tuple[float, float]]] = {}
        for m in self.store.minutes(serial, start, end):
            hours.setdefault(m.minute // 60, []).append((m.spread_mean_c, m.spread_max_c))
        out = []
        for h, vals in sorted(hours.items()):
            means = [a for a, _ in vals if math.isfinite(a)]
            maxes = [b for _, b in vals if math.isfinite(b)]
            out.append(
                (
                    h * 3600.0,
                    sum(means) / len(means) if means else math.nan,
                    max(maxes) if maxes else math.nan,
                )
            )
        return tuple(out)

    def _forecast(
        self, info: PackInfo, capacity: tuple[SohPoint, ...]
    ) -> tuple[tuple[SohPoint, ...], EolForecast | None]:
        """Fit the calendar + cycle model to the pack's capacity estimates and forecast SoH
        (median and 5-95 % band) and the date it reaches 80 %. The pack's life before its
        first estimate is one interval of its cycle count at its recent use (an assumption);
        needs at least four estimates spanning a week."""
        pts = [p for p in capacity if math.isfinite(p.soh_low) and p.soh_high > p.soh_low]
        if len(pts) < 4 or pts[-1].time_s - pts[0].time_s < 7 * SECONDS_PER_DAY:
            return (), None
        t = np.array([p.time_s for p in pts])
        fec_per_day = 1.0  # swap packs cycle about once a day [estimate]
        prior_days = max(info.cycle_count / fec_per_day, 1.0)
        durations = np.concatenate(([prior_days], np.diff(t) / SECONDS_PER_DAY))
        n = durations.size
        fec = np.concatenate(([float(info.cycle_count)], durations[1:] * fec_per_day))
        history = UsageHistory(durations, fec, np.full(n, 25.0), np.full(n, 0.6), np.full(n, 0.8))
        soh = np.array([p.soh for p in pts])
        sigma = np.array([(p.soh_high - p.soh_low) / 3.92 for p in pts])
        try:
            fit: AgeingFit = fit_ageing(history, soh, np.maximum(sigma, 1e-3))
            rng = np.random.default_rng(self.policy.seed)
            eol = fit.forecast_eol(
                fec_per_day, 25.0, 0.6, 0.8, rng, n_draws=self.policy.forecast_draws
            )
            horizon = np.arange(30.0, 3 * 365.0 + 1, 30.0)
            draws = fit.draws(rng, self.policy.forecast_draws)
            curves = []
            for p in draws:
                future = UsageHistory(
                    np.concatenate((durations, np.full(horizon.size, 30.0))),
                    np.concatenate((fec, np.full(horizon.size, 30.0 * fec_per_day))),
                    np.full(n + horizon.size, 25.0),
                    np.full(n + horizon.size, 0.6),
                    np.full(n + horizon.size, 0.8),
                )
                curves.append(soh_curve(p, future)[n:])
            q = np.quantile(np.array(curves), [0.05, 0.5, 0.95], axis=0)
        except (ValueError, RuntimeError, np.linalg.LinAlgError):
            return (), None
        band = tuple(
            SohPoint(
                float(t[-1] + d * SECONDS_PER_DAY), float(q[1, k]), float(q[0, k]), float(q[2, k])
            )
            for k, d in enumerate(horizon)
        )
        return band, eol

    def fleet_report(self, by: str = "maker") -> FleetHealthReport:
        """SoH distribution per maker or model, packs near end of life and second-life
        candidates (70-80 %): each pack by its latest capacity estimate, else its stored SoH."""
        if by not in ("maker", "model"):
            raise ValueError(f"by must be 'maker' or 'model', not {by!r}")
        latest: dict[str, HealthEstimate] = {}
        for est in self.store.estimates():
            if math.isfinite(est.capacity_soh):
                latest[est.serial] = est
        summaries = []
        for serial, info in self.store.pack_info().items():
            e = latest.get(serial)
            point = (
                SohPoint(e.time_s, e.capacity_soh, e.capacity_soh_low, e.capacity_soh_high)
                if e is not None
                else SohPoint(math.nan, info.soh, info.soh, info.soh)
            )
            summaries.append(PackHealthSummary(serial, info.maker, info.model_id, (point,), ()))
        return build_fleet_report(summaries, by=by)

    # -- introspection --------------------------------------------------------------------------

    @property
    def monitored_packs(self) -> int:
        return len(self._registry)


def _serial_of(item: object) -> str | None:
    s = item.get("serial") if isinstance(item, Mapping) else getattr(item, "serial", None)
    return s[:400] if isinstance(s, str) else None


def _take_unordered(tel: PackTelemetry, rows: np.ndarray[Any, Any]) -> PackTelemetry:
    """Rows `rows` of `tel` in the given order (storage does not need time order)."""
    out = _take(tel, rows)
    if tel.cell_time_s is not None and tel.cell_v is not None:
        t = set(tel.time_s[rows].tolist())
        keep = np.array([x in t for x in tel.cell_time_s.tolist()], dtype=np.bool_)
        out = replace(
            out,
            cell_time_s=tel.cell_time_s[keep] if keep.any() else None,
            cell_v=tel.cell_v[keep] if keep.any() else None,
        )
    return out
