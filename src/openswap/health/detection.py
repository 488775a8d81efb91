"""Anomaly and safety detection over pack telemetry, streaming or batch, with one code path.

Every rule is vectorised over a chunk of readings and carries a small, bounded state between
chunks, so `Detector.feed` (a few readings at a time, many packs) and `detect` (a whole day of
one pack in one chunk) give the same alarms. Rules, thresholds and their sources are listed in
docs/design/health.md; `PackLimits` and `DetectorConfig` hold every threshold.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

from openswap.health.lfp import LFP_OCV, OcvCurve
from openswap.health.telemetry import (
    DEFAULT_LIMITS,
    Gb32960Alarm,
    PackTelemetry,
    Reading,
    TelemetryLimits,
    alarm_names,
    build_pack_telemetry,
    check_reading,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation


class AlarmKind(StrEnum):
    THERMAL_RUNAWAY = "thermal_runaway"
    RAPID_TEMPERATURE_RISE = "rapid_temperature_rise"
    OVER_TEMPERATURE = "over_temperature"
    CELL_VOLTAGE_OUTLIER = "cell_voltage_outlier"
    CELL_DRIFT = "cell_drift"
    TEMPERATURE_SPREAD = "temperature_spread"
    TEMPERATURE_SPREAD_TREND = "temperature_spread_trend"
    SELF_DISCHARGE = "self_discharge"
    INSULATION_LOW = "insulation_low"
    INSULATION_DECLINE = "insulation_decline"
    STUCK_SENSOR = "stuck_sensor"
    BMS_ALARM = "bms_alarm"


class Severity(StrEnum):
    WARNING = "warning"  # inspect; the pack stays in service
    CRITICAL = "critical"  # take the pack out of service: quarantine


@dataclass(frozen=True, slots=True)
class Alarm:
    """One detected condition of one pack, with the evidence an operator needs to trust it."""

    serial: str
    kind: AlarmKind
    severity: Severity
    onset_time_s: float  # when the condition began, as far as the data show
    detected_time_s: float  # time of the reading that tripped the rule
    evidence: str
    subject: str = "pack"  # "pack", "cell 37", "probe 3 (centre)"
    values: Mapping[str, float] = field(default_factory=dict)

    @property
    def quarantine(self) -> bool:
        """Whether the operations service should move the pack to quarantine."""
        return self.severity is Severity.CRITICAL

    def to_dict(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "kind": str(self.kind),
            "severity": str(self.severity),
            "onset_time_s": self.onset_time_s,
            "detected_time_s": self.detected_time_s,
            "subject": self.subject,
            "evidence": self.evidence,
            "values": dict(self.values),
            "quarantine": self.quarantine,
        }


@dataclass(frozen=True, slots=True)
class PackLimits:
    """Limits of one pack model. Defaults: a 168-series LFP pack [estimate where marked]."""

    n_series: int = 168
    max_working_voltage_v: float = 168 * 3.65
    max_operating_temp_c: float = 60.0  # maker's maximum operating temperature [estimate]
    spread_limit_c: float = 10.0  # edge-to-centre; seed's normal 5-8 °C plus margin [estimate]
    spread_critical_c: float = 15.0  # [estimate]
    insulation_min_ohm_per_v: float = 100.0  # GB 18384-2020, DC circuits
    insulation_warning_ohm_per_v: float = 500.0  # first-level BMS warning [estimate]
    self_discharge_limit_per_day: float = 0.02  # SoC/day at rest; healthy LFP ~0.1 %/day [estimate]
    ocv: OcvCurve = LFP_OCV


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Rule thresholds. Sources: GB 38031-2025 App. C.5.3.7 for the runaway criterion; the
    rest are engineering choices [estimate], justified in docs/design/health.md."""

    # GB 38031-2025: dT/dt >= 1 °C/s for more than 3 s, and (drop > 25 % or max temperature).
    runaway_rate_c_per_s: float = 1.0
    runaway_duration_s: float = 3.0
    runaway_voltage_drop: float = 0.25
    max_sample_gap_s: float = 2.0  # a rate over a longer gap is not evidence of a rise
    over_temp_hold_s: float = 10.0
    spread_hold_s: float = 300.0
    spread_critical_hold_s: float = 60.0
    spread_trend_window_h: int = 12
    spread_trend_c_per_h: float = 0.3
    spread_trend_level: float = 0.6  # of the spread limit
    insulation_hold_s: float = 10.0
    insulation_warning_hold_s: float = 60.0
    insulation_decline_factor: float = 3.0
    insulation_decline_window_h: int = 12
    rest_current_a: float = 2.0
    rest_relax_s: float = 3_600.0
    rest_min_relaxed_s: float = 5_400.0
    rest_eval_s: float = 6 * 3_600.0  # evaluate an open rest once it has lasted this long
    outlier_abs_v: float = 0.030
    outlier_z: float = 6.0
    outlier_frames: int = 3
    outlier_critical_v: float = 0.300
    mad_floor_v: float = 0.001
    drift_tau_s: float = 2 * 3_600.0
    drift_abs_v: float = 0.015
    drift_z: float = 5.0
    plateau_soc: tuple[float, float] = (0.15, 0.95)
    stuck_bucket_s: float = 600.0
    stuck_min_flat_s: float = 1_800.0
    stuck_peer_move_c: float = 3.0
    stuck_peer_move_v: float = 0.020
    rearm_s: float = 600.0


# --- vectorised helpers with carry -------------------------------------------------------------


def _run_starts(cond: BoolArray, values: FloatArray, carry: float) -> FloatArray:
    """For each sample, `values` at the first sample of the run of True it belongs to (NaN where
    False). `carry` is that value for a run still open at the end of the previous chunk (NaN if
    none), which a leading run continues."""
    n = cond.size
    prev = np.empty(n, dtype=np.bool_)
    prev[0] = not math.isnan(carry)
    prev[1:] = cond[:-1]
    first = np.maximum.accumulate(np.where(cond & ~prev, np.arange(n), -1))
    start = np.where(first >= 0, values[np.maximum(first, 0)], carry)
    return np.where(cond, start, np.nan)


def _bucket_starts(
    t: FloatArray, width_s: float
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64]]:
    """Start index and id (floor(t / width)) of each clock bucket present in sorted `t`."""
    first, last = math.floor(t[0] / width_s), math.floor(t[-1] / width_s)
    edges = np.arange(first + 1, last + 1, dtype=np.float64) * width_s
    starts = np.concatenate(([0], np.searchsorted(t, edges, side="left")))
    keep = np.concatenate(([True], np.diff(starts) > 0))  # buckets without samples vanish
    starts = starts[keep]
    return starts, np.floor(t[starts] / width_s).astype(np.int64)


@dataclass(slots=True)
class _Latch:
    """Emit once per episode: again only after the condition was absent for `rearm_s`."""

    last_true_s: float = -math.inf

    def edges(self, cond: BoolArray, t: FloatArray, rearm_s: float) -> npt.NDArray[np.intp]:
        idx = np.flatnonzero(cond)
        if idx.size == 0:
            return idx
        times = t[idx]
        prev = np.concatenate(([self.last_true_s], times[:-1]))
        self.last_true_s = float(times[-1])
        return idx[times - prev > rearm_s]


class _Sustained:
    """A condition that must hold for `hold_s` before it counts; one alarm per episode."""

    def __init__(self, hold_s: float, rearm_s: float) -> None:
        self.hold_s, self.rearm_s = hold_s, rearm_s
        self.carry_start = math.nan
        self.latch = _Latch()

    def trips(
        self, cond: BoolArray, t: FloatArray
    ) -> tuple[npt.NDArray[np.intp], FloatArray | None]:
        """Indices where a new episode trips, and the run start times (None if nothing held)."""
        if not cond.any():
            self.carry_start = math.nan
            return np.empty(0, dtype=np.intp), None
        start = _run_starts(cond, t, self.carry_start)
        self.carry_start = float(start[-1])  # NaN when the chunk ends outside a run
        held = cond & (t - start >= self.hold_s)
        return self.latch.edges(held, t, self.rearm_s), start


# --- rules -------------------------------------------------------------------------------------


class _ThermalRule:
    """GB 38031-2025 thermal-runaway criterion on the hottest probe, and over-temperature."""

    def __init__(self, serial: str, lim: PackLimits, cfg: DetectorConfig) -> None:
        self.serial, self.lim, self.cfg = serial, lim, cfg
        self.prev_t = math.nan
        self.prev_tmax = math.nan
        self.prev_vmin = math.nan
        self.prev_vpack = math.nan
        self.run_start = math.nan  # time the open rising run began
        self.ref = (math.nan, math.nan)  # (min cell V, pack V) at the open run's start
        self.warn_latch, self.crit_latch = _Latch(), _Latch()
        self.over = _Sustained(cfg.over_temp_hold_s, cfg.rearm_s)

    def process(self, tel: PackTelemetry) -> list[Alarm]:
        cfg, lim = self.cfg, self.lim
        t = tel.time_s
        tmax = tel.temps_c.max(axis=0).astype(np.float64)
        vmin = tel.cell_v_min.astype(np.float64)
        vpack = tel.voltage_v.astype(np.float64)
        t_ext = np.concatenate(([self.prev_t], t))
        tmax_ext = np.concatenate(([self.prev_tmax], tmax))
        dt = np.diff(t_ext)
        with np.errstate(invalid="ignore"):
            rate = np.diff(tmax_ext) / dt
            rising = (rate >= cfg.runaway_rate_c_per_s - 1e-6) & (dt <= cfg.max_sample_gap_s)
        alarms: list[Alarm] = []
        # Fast path: the criterion needs a run of rising intervals longer than the duration;
        # with noise-level rises only (isolated 1 °C steps) nothing is examined further.
        need = max(1, math.ceil(cfg.runaway_duration_s / max(float(dt[-1]), 1e-9)))
        long_run = rising.copy()
        for lag in range(1, min(need, rising.size)):
            long_run[lag:] &= rising[:-lag]
        if long_run.any() or (rising[:need].any() and not math.isnan(self.run_start)):
            alarms += self._runaway(t, t_ext, tmax, vmin, vpack, rate, rising)
        elif rising[-1]:
            last_false = np.flatnonzero(~rising)
            i0 = int(last_false[-1]) + 1 if last_false.size else 0
            if i0 > 0 or math.isnan(self.run_start):
                self.run_start = float(t_ext[i0])
                self.ref = (
                    float(np.concatenate(([self.prev_vmin], vmin))[i0]),
                    float(np.concatenate(([self.prev_vpack], vpack))[i0]),
                )
        else:
            self.run_start = math.nan
        idx, start = self.over.trips(tmax >= lim.max_operating_temp_c, t)
        for i in idx:
            assert start is not None
            alarms.append(
                Alarm(
                    self.serial,
                    AlarmKind.OVER_TEMPERATURE,
                    Severity.WARNING,
                    float(start[i]),
                    float(t[i]),
                    f"max probe temperature {tmax[i]:.0f} °C at or above the maximum operating "
                    f"temperature {lim.max_operating_temp_c:.0f} °C for "
                    f"{t[i] - start[i]:.0f} s",
                    values={"max_temp_c": float(tmax[i]), "limit_c": lim.max_operating_temp_c},
                )
            )
        self.prev_t, self.prev_tmax = float(t[-1]), float(tmax[-1])
        self.prev_vmin, self.prev_vpack = float(vmin[-1]), float(vpack[-1])
        return alarms

    def _runaway(
        self,
        t: FloatArray,
        t_ext: FloatArray,
        tmax: FloatArray,
        vmin: FloatArray,
        vpack: FloatArray,
        rate: FloatArray,
        rising: BoolArray,
    ) -> list[Alarm]:
        cfg, lim = self.cfg, self.lim
        # Interval i runs from t_ext[i] to t[i]; a run of rising intervals starts at t_ext[i0],
        # and the reference voltages are the readings at that instant.
        vmin_ext = np.concatenate(([self.prev_vmin], vmin))
        vpack_ext = np.concatenate(([self.prev_vpack], vpack))
        start = _run_starts(rising, t_ext[:-1], self.run_start)
        ref_vmin = _run_starts(rising, vmin_ext[:-1], self.ref[0])
        ref_vpack = _run_starts(rising, vpack_ext[:-1], self.ref[1])
        duration = t - start
        with np.errstate(invalid="ignore", divide="ignore"):
            c = rising & (duration > cfg.runaway_duration_s)
            drop_cell = 1.0 - vmin / ref_vmin
            drop_pack = 1.0 - vpack / ref_vpack
        a = (drop_cell > cfg.runaway_voltage_drop) | (drop_pack > cfg.runaway_voltage_drop)
        b = tmax >= lim.max_operating_temp_c
        crit = c & (a | b)
        self.run_start = float(start[-1])
        self.ref = (float(ref_vmin[-1]), float(ref_vpack[-1]))
        alarms = []
        for i in self.warn_latch.edges(c, t, cfg.rearm_s):
            alarms.append(
                Alarm(
                    self.serial,
                    AlarmKind.RAPID_TEMPERATURE_RISE,
                    Severity.WARNING,
                    float(start[i]),
                    float(t[i]),
                    f"dT/dt >= {cfg.runaway_rate_c_per_s:g} °C/s for {duration[i]:.0f} s "
                    f"(now {rate[i]:.1f} °C/s, max temp {tmax[i]:.0f} °C)",
                    values={"duration_s": float(duration[i]), "max_temp_c": float(tmax[i])},
                )
            )
        for i in self.crit_latch.edges(crit, t, cfg.rearm_s):
            why = []
            if a[i]:
                why.append(
                    f"min cell voltage {vmin[i]:.2f} V, {drop_cell[i]:.0%} below "
                    f"{ref_vmin[i]:.2f} V at the start of the rise (limit 25 %)"
                )
            if b[i]:
                why.append(f"max temp {tmax[i]:.0f} °C (limit {lim.max_operating_temp_c:.0f} °C)")
            alarms.append(
                Alarm(
                    self.serial,
                    AlarmKind.THERMAL_RUNAWAY,
                    Severity.CRITICAL,
                    float(start[i]),
                    float(t[i]),
                    f"GB 38031-2025 runaway criterion: dT/dt >= {cfg.runaway_rate_c_per_s:g} "
                    f"°C/s for {duration[i]:.0f} s with " + " and ".join(why),
                    values={
                        "duration_s": float(duration[i]),
                        "max_temp_c": float(tmax[i]),
                        "cell_voltage_drop": float(np.nan_to_num(drop_cell[i])),
                        "pack_voltage_drop": float(np.nan_to_num(drop_pack[i])),
                    },
                )
            )
        return alarms


class _HourlyMeans:
    """Means of a signal per clock hour, the open hour carried; completed hours in a deque."""

    def __init__(self, keep_h: int) -> None:
        self.hours: deque[tuple[int, float]] = deque(maxlen=keep_h)
        self.open_hour = -1
        self.open_sum = 0.0
        self.open_n = 0

    def add(self, t: FloatArray, x: FloatArray, on_hour: Callable[[int], None]) -> None:
        """Add samples; `on_hour(h)` runs as each hour completes, with `hours` ending at h."""
        starts, hours = _bucket_starts(t, 3600.0)
        sums = np.add.reduceat(x, starts)
        counts = np.diff(np.concatenate((starts, [x.size])))
        for h, s, c in zip(hours.tolist(), sums.tolist(), counts.tolist(), strict=True):
            if h == self.open_hour:
                self.open_sum += s
                self.open_n += c
                continue
            if self.open_n:
                self.hours.append((self.open_hour, self.open_sum / self.open_n))
                on_hour(self.open_hour)
            self.open_hour, self.open_sum, self.open_n = h, s, c


class _SpreadRule:
    """Edge-to-centre temperature spread over its limit, and its rising trend."""

    def __init__(self, serial: str, lim: PackLimits, cfg: DetectorConfig) -> None:
        self.serial, self.lim, self.cfg = serial, lim, cfg
        self.warn = _Sustained(cfg.spread_hold_s, cfg.rearm_s)
        self.crit = _Sustained(cfg.spread_critical_hold_s, cfg.rearm_s)
        self.hourly = _HourlyMeans(cfg.spread_trend_window_h)
        self.trend_latch = _Latch()

    def process(self, tel: PackTelemetry) -> list[Alarm]:
        edge = tel.edge_mask
        if edge.all() or not edge.any():
            return []
        lim, t = self.lim, tel.time_s
        n_edge = int(edge.sum())
        centre_sum = tel.temps_c[~edge].sum(axis=0).astype(np.float64)
        edge_sum = tel.temps_c[edge].sum(axis=0).astype(np.float64)
        spread = centre_sum / (edge.size - n_edge) - edge_sum / n_edge
        alarms = []
        for rule, limit, sev in (
            (self.warn, lim.spread_limit_c, Severity.WARNING),
            (self.crit, lim.spread_critical_c, Severity.CRITICAL),
        ):
            idx, start = rule.trips(spread > limit, t)
            for i in idx:
                assert start is not None
                alarms.append(
                    Alarm(
                        self.serial,
                        AlarmKind.TEMPERATURE_SPREAD,
                        sev,
                        float(start[i]),
                        float(t[i]),
                        f"centre probes {spread[i]:.1f} °C above edge probes for "
                        f"{t[i] - start[i]:.0f} s (limit {limit:g} °C)",
                        values={"spread_c": float(spread[i]), "limit_c": limit},
                    )
                )

        def on_hour(hour: int) -> None:
            alarm = self._trend(hour)
            if alarm is not None:
                alarms.append(alarm)

        self.hourly.add(t, spread, on_hour)
        return alarms

    def _trend(self, hour: int) -> Alarm | None:
        cfg, lim = self.cfg, self.lim
        pts = [(h, m) for h, m in self.hourly.hours if hour - cfg.spread_trend_window_h < h <= hour]
        if len(pts) < cfg.spread_trend_window_h * 2 // 3:
            return None
        h = np.array([p[0] for p in pts], dtype=np.float64)
        m = np.array([p[1] for p in pts])
        hc = h - h.mean()
        slope = float((hc * (m - m.mean())).sum() / (hc * hc).sum())
        level = float(m[-1])
        t_end = (hour + 1) * 3600.0
        cond = (
            slope >= cfg.spread_trend_c_per_h
            and level >= cfg.spread_trend_level * lim.spread_limit_c
        )
        if not self.trend_latch.edges(np.array([cond]), np.array([t_end]), 6 * 3600.0).size:
            return None
        return Alarm(
            self.serial,
            AlarmKind.TEMPERATURE_SPREAD_TREND,
            Severity.WARNING,
            float(h[0] * 3600.0),
            t_end,
            f"hourly mean edge-to-centre spread rising {slope:.2f} °C/h over {len(pts)} h, "
            f"now {level:.1f} °C (limit {lim.spread_limit_c:g} °C): cooling loop degrading?",
            values={"slope_c_per_h": slope, "spread_c": level},
        )


class _InsulationRule:
    """Insulation resistance per volt of the maximum working voltage (GB 18384-2020), and a
    fall by a large factor within hours."""

    def __init__(self, serial: str, lim: PackLimits, cfg: DetectorConfig) -> None:
        self.serial, self.lim, self.cfg = serial, lim, cfg
        self.crit = _Sustained(cfg.insulation_hold_s, cfg.rearm_s)
        self.warn = _Sustained(cfg.insulation_warning_hold_s, cfg.rearm_s)
        self.hourly = _HourlyMeans(cfg.insulation_decline_window_h + 1)
        self.decline_latch = _Latch()

    def process(self, tel: PackTelemetry) -> list[Alarm]:
        cfg, lim, t = self.cfg, self.lim, tel.time_s
        per_v = tel.insulation_ohm.astype(np.float64) / lim.max_working_voltage_v
        alarms = []
        for rule, limit, sev in (
            (self.crit, lim.insulation_min_ohm_per_v, Severity.CRITICAL),
            (self.warn, lim.insulation_warning_ohm_per_v, Severity.WARNING),
        ):
            idx, start = rule.trips(per_v < limit, t)
            for i in idx:
                assert start is not None
                alarms.append(
                    Alarm(
                        self.serial,
                        AlarmKind.INSULATION_LOW,
                        sev,
                        float(start[i]),
                        float(t[i]),
                        f"insulation {tel.insulation_ohm[i] / 1e3:.0f} kΩ = {per_v[i]:.0f} Ω/V "
                        f"of {lim.max_working_voltage_v:.0f} V (limit {limit:g} Ω/V)",
                        values={"ohm_per_v": float(per_v[i]), "limit_ohm_per_v": limit},
                    )
                )
        log_r = np.log10(np.maximum(tel.insulation_ohm.astype(np.float64), 1.0))

        def on_hour(hour: int) -> None:
            past = [
                m
                for h, m in self.hourly.hours
                if hour - cfg.insulation_decline_window_h <= h <= hour
            ]
            if len(past) < 3:
                return
            factor = 10 ** (max(past) - past[-1])
            cond = factor >= cfg.insulation_decline_factor
            t_end = (hour + 1) * 3600.0
            if self.decline_latch.edges(np.array([cond]), np.array([t_end]), 6 * 3600.0).size:
                alarms.append(
                    Alarm(
                        self.serial,
                        AlarmKind.INSULATION_DECLINE,
                        Severity.WARNING,
                        t_end - 3600.0 * len(past),
                        t_end,
                        f"hourly insulation fell by a factor {factor:.1f} within "
                        f"{len(past)} h to {10 ** past[-1] / 1e3:.0f} kΩ",
                        values={"factor": factor, "insulation_ohm": 10 ** past[-1]},
                    )
                )

        self.hourly.add(t, log_r, on_hour)
        return alarms


class _SelfDischargeRule:
    """Pack rest-voltage slope after relaxation, converted to SoC per day through the OCV slope."""

    def __init__(self, serial: str, lim: PackLimits, cfg: DetectorConfig) -> None:
        self.serial, self.lim, self.cfg = serial, lim, cfg
        self.rest_start = math.nan
        self.acc = np.zeros(7)  # n, sum t, sum v, sum tt, sum tv, sum vv, sum soc (t from t0)
        self.t0 = math.nan  # first relaxed sample of the open stretch
        self.evaluated = False
        self.latch = _Latch()

    def process(self, tel: PackTelemetry) -> list[Alarm]:
        cfg, t = self.cfg, tel.time_s
        rest = np.abs(tel.current_a) < cfg.rest_current_a
        if not rest.any():
            return self._close(float(t[0]))
        start = _run_starts(rest, t, self.rest_start)
        self.rest_start = float(start[-1])
        relaxed = rest & (t - start >= cfg.rest_relax_s)
        alarms: list[Alarm] = []
        if not relaxed.any():
            return self._close(float(t[0])) if not rest[-1] or not math.isnan(self.t0) else []
        # Stretches of relaxed samples (contiguous); the first may continue the carried one.
        n = t.size
        prev = np.empty(n, dtype=np.bool_)
        prev[0] = not math.isnan(self.t0)
        prev[1:] = relaxed[:-1]
        idx = np.flatnonzero(relaxed)
        first_of = np.flatnonzero((relaxed & ~prev)[idx])  # positions in idx starting a stretch
        if prev[0] and (first_of.size == 0 or first_of[0] != 0):
            first_of = np.concatenate(([0], first_of))
        n_seg = first_of.size
        t0 = t[idx[first_of]].astype(np.float64)
        if prev[0]:
            t0[0] = self.t0
        seg_len = np.diff(np.concatenate((first_of, [idx.size])))
        tt = t[idx] - np.repeat(t0, seg_len)
        v = tel.voltage_v[idx].astype(np.float64)
        s = tel.soc[idx].astype(np.float64)
        sums = np.stack(
            [seg_len.astype(np.float64)]
            + [np.add.reduceat(w, first_of) for w in (tt, v, tt * tt, tt * v, v * v, s)]
        )
        end_time = t[idx[np.concatenate((first_of[1:], [idx.size])) - 1]]
        seg_r = np.array([n_seg - 1])
        if prev[0]:
            sums[:, 0] += self.acc
        ended = seg_r[-1] if relaxed[-1] else n_seg  # index of an open stretch, if any
        for k in range(n_seg):
            if k == ended:
                continue
            alarm = self._evaluate(sums[:, k], float(t0[k]), float(end_time[k]))
            if alarm:
                alarms.append(alarm)
        if relaxed[-1]:
            self.acc, self.t0 = sums[:, ended], float(t0[ended])
            if ended != 0 or not prev[0]:
                self.evaluated = False
            if not self.evaluated and t[-1] - self.t0 >= cfg.rest_eval_s:
                self.evaluated = True
                alarm = self._evaluate(self.acc, self.t0, float(t[-1]))
                if alarm:
                    alarms.append(alarm)
        else:
            self.acc, self.t0, self.evaluated = np.zeros(7), math.nan, False
        return alarms

    def _close(self, now: float) -> list[Alarm]:
        alarms: list[Alarm] = []
        if not math.isnan(self.t0) and not self.evaluated:
            alarm = self._evaluate(self.acc, self.t0, now)
            if alarm:
                alarms.append(alarm)
        self.acc, self.t0, self.evaluated = np.zeros(7), math.nan, False
        self.rest_start = math.nan
        return alarms

    def _evaluate(self, acc: FloatArray, t0: float, t_end: float) -> Alarm | None:
        cfg, lim = self.cfg, self.lim
        n, st, sv, stt, stv, svv, ssoc = (float(x) for x in acc)
        if n < 10 or t_end - t0 < cfg.rest_min_relaxed_s:
            return None
        sxx = stt - st * st / n
        if sxx <= 0:
            return None
        slope = (stv - st * sv / n) / sxx  # V/s
        resid = max(svv - sv * sv / n - slope * (stv - st * sv / n), 0.0) / max(n - 2, 1)
        se = math.sqrt(resid / sxx)
        soc = ssoc / n
        dv_dsoc = float(lim.ocv.slope_v(soc)) * lim.n_series
        per_day = -slope * 86_400.0 / dv_dsoc
        if not (per_day > lim.self_discharge_limit_per_day and slope + 4 * se < 0):
            return None
        if not self.latch.edges(np.array([True]), np.array([t_end]), cfg.rearm_s).size:
            return None
        return Alarm(
            self.serial,
            AlarmKind.SELF_DISCHARGE,
            Severity.WARNING,
            t0,
            t_end,
            f"at rest {(t_end - t0) / 3600:.1f} h after relaxation the pack voltage fell "
            f"{-slope * 3600:.3f} V/h at SoC {soc:.0%} (OCV slope {dv_dsoc:.0f} V per unit SoC): "
            f"about {per_day:.1%} SoC per day (limit {lim.self_discharge_limit_per_day:.1%})",
            values={"soc_per_day": per_day, "v_per_h": -slope * 3600},
        )


class _StuckRule:
    """Channels (probes or cells) flat to the last digit for a long time while their peers move."""

    def __init__(
        self,
        serial: str,
        cfg: DetectorConfig,
        peer_move: float,
        unit: str,
        names: Callable[[int], str],
    ) -> None:
        self.serial, self.cfg, self.peer_move, self.unit, self.names = (
            serial,
            cfg,
            peer_move,
            unit,
            names,
        )
        self.open: tuple[int, FloatArray, FloatArray, float, float] | None = None
        self.count: npt.NDArray[np.int64] | None = None  # flat buckets in the open run, per channel
        self.peer_hi: FloatArray | None = None
        self.peer_lo: FloatArray | None = None
        self.alarmed: BoolArray | None = None
        self.value: FloatArray | None = None

    def process(
        self, t: FloatArray, x: npt.NDArray[np.float32], *, time_major: bool = False
    ) -> list[Alarm]:
        """`x` is channel-major (k, n), or (n, k) when `time_major`. Time-major input (per-cell
        frames, many channels) is judged on the first frame of each bucket only, which is ten
        times cheaper; a moving cell differs between buckets just the same."""
        if t.size == 0:
            return []
        k = x.shape[1] if time_major else x.shape[0]
        if self.count is None or self.count.size != k:
            self.count = np.zeros(k, dtype=np.int64)
            self.peer_hi = np.full(k, -np.inf)
            self.peer_lo = np.full(k, np.inf)
            self.alarmed = np.zeros(k, dtype=np.bool_)
            self.value = np.full(k, np.nan)
            self.open = None
        width = self.cfg.stuck_bucket_s
        starts, ids = _bucket_starts(t, width)
        if time_major:
            lo = x[starts].T.astype(np.float64)
            hi = lo.copy()
            # the pack mean at the same sampled frames, so both sides see the same instants
            peer = np.zeros(t.size)
            peer[starts] = x[starts].sum(axis=1, dtype=np.float64) / k
        else:
            lo = np.minimum.reduceat(x, starts, axis=1).astype(np.float64)
            hi = np.maximum.reduceat(x, starts, axis=1).astype(np.float64)
            peer = x.sum(axis=0).astype(np.float64) / k
        if time_major:
            p_lo = peer[starts]
            p_hi = p_lo.copy()
        else:
            p_lo = np.minimum.reduceat(peer, starts)
            p_hi = np.maximum.reduceat(peer, starts)
        if self.open is not None and self.open[0] == ids[0]:
            lo[:, 0] = np.minimum(lo[:, 0], self.open[1])
            hi[:, 0] = np.maximum(hi[:, 0], self.open[2])
            p_lo[0] = min(p_lo[0], self.open[3])
            p_hi[0] = max(p_hi[0], self.open[4])
        elif self.open is not None:  # the carried bucket closed before this chunk
            ids = np.concatenate(([self.open[0]], ids))
            lo = np.column_stack((self.open[1], lo))
            hi = np.column_stack((self.open[2], hi))
            p_lo = np.concatenate(([self.open[3]], p_lo))
            p_hi = np.concatenate(([self.open[4]], p_hi))
        self.open = (
            int(ids[-1]),
            lo[:, -1].copy(),
            hi[:, -1].copy(),
            float(p_lo[-1]),
            float(p_hi[-1]),
        )
        if ids.size == 1:
            return []
        return self._closed(ids[:-1], lo[:, :-1], hi[:, :-1], p_lo[:-1], p_hi[:-1])

    def _closed(
        self,
        ids: npt.NDArray[np.int64],
        lo: FloatArray,
        hi: FloatArray,
        p_lo: FloatArray,
        p_hi: FloatArray,
    ) -> list[Alarm]:
        assert self.count is not None
        assert self.peer_hi is not None
        assert self.peer_lo is not None
        assert self.alarmed is not None
        assert self.value is not None
        k, nb = lo.shape
        big = 1e6
        # Column 0 is the carried open run; then one column per closed bucket.
        flat = np.column_stack((self.count > 0, hi == lo))
        same = np.column_stack(
            (np.ones(k, dtype=np.bool_), lo == np.column_stack((self.value, lo[:, :-1])))
        )
        flat[:, 1:] &= same[:, 1:] | ~flat[:, :-1]  # a flat bucket at a new value starts anew
        col = np.arange(nb + 1)
        last_break = np.maximum.accumulate(np.where(~flat, col, -1), axis=1)
        count = col - last_break + np.where(last_break < 0, self.count[:, None] - 1, 0)
        count = np.where(flat, count, 0)
        run = (last_break + 1).astype(np.float64) * big
        ph = np.column_stack((self.peer_hi, np.broadcast_to(p_hi, (k, nb))))
        pl = np.column_stack((self.peer_lo, np.broadcast_to(p_lo, (k, nb))))
        ph = np.where(flat, ph, -big / 2)
        pl = np.where(flat, pl, big / 2)
        cum_hi = np.maximum.accumulate(ph + run, axis=1) - run
        cum_lo = -(np.maximum.accumulate(-pl + run, axis=1) - run)
        width = self.cfg.stuck_bucket_s
        cond = (
            flat
            & (count * width >= self.cfg.stuck_min_flat_s)
            & (cum_hi - cum_lo >= self.peer_move)
        )
        prev_cond = np.column_stack((self.alarmed, cond[:, :-1])) & flat
        new = cond & ~prev_cond
        new[:, 0] = False
        alarms = []
        for ch, c in zip(*np.nonzero(new), strict=True):
            end = float((ids[c - 1] + 1) * width)
            onset = end - float(count[ch, c]) * width
            alarms.append(
                Alarm(
                    self.serial,
                    AlarmKind.STUCK_SENSOR,
                    Severity.WARNING,
                    onset,
                    end,
                    f"{self.names(int(ch))} flat at {lo[ch, c - 1]:g} {self.unit} for "
                    f"{count[ch, c] * width / 60:.0f} min while the pack mean moved "
                    f"{cum_hi[ch, c] - cum_lo[ch, c]:.3g} {self.unit}",
                    subject=self.names(int(ch)),
                    values={"channel": float(ch), "value": float(lo[ch, c - 1])},
                )
            )
        self.count = count[:, -1].astype(np.int64)
        self.peer_hi = np.where(flat[:, -1], cum_hi[:, -1], -np.inf)
        self.peer_lo = np.where(flat[:, -1], cum_lo[:, -1], np.inf)
        self.alarmed = cond[:, -1] | (prev_cond[:, -1] & flat[:, -1])
        self.value = lo[:, -1].copy()
        return alarms


class _CellRule:
    """Per-cell frames: outliers against the pack's other cells (median/MAD robust z) and a slowly
    drifting cell (EWMA of its deviation on the OCV plateau), each named by index."""

    def __init__(self, serial: str, lim: PackLimits, cfg: DetectorConfig) -> None:
        self.serial, self.lim, self.cfg = serial, lim, cfg
        self.run: npt.NDArray[np.int64] | None = None
        self.ewma: FloatArray | None = None
        self.prev_t = math.nan
        self.out_latch: dict[int, _Latch] = {}
        self.drift_latch: dict[int, _Latch] = {}
        self.stuck = _StuckRule(serial, cfg, cfg.stuck_peer_move_v, "V", lambda c: f"cell {c}")

    def process(self, tel: PackTelemetry) -> list[Alarm]:
        if tel.cell_time_s is None or tel.cell_v is None or tel.cell_time_s.size == 0:
            return []
        t, v = tel.cell_time_s, tel.cell_v
        n_cells = v.shape[1]
        if self.run is None or self.run.size != n_cells:
            self.run = np.zeros(n_cells, dtype=np.int64)
            self.ewma = np.zeros(n_cells)
        med = np.partition(v, n_cells // 2, axis=1)[:, n_cells // 2]
        dev = v - med[:, None]
        alarms = self._outliers(t, v, dev, med)
        alarms += self._drift(tel, t, dev)
        alarms += self.stuck.process(t, v, time_major=True)
        return alarms

    def _outliers(
        self,
        t: FloatArray,
        v: npt.NDArray[np.float32],
        dev: npt.NDArray[np.float32],
        med: npt.NDArray[np.float32],
    ) -> list[Alarm]:
        cfg = self.cfg
        assert self.run is not None
        big = np.abs(dev) >= cfg.outlier_abs_v
        if not big.any():
            self.run[:] = 0
            return []
        rows = np.flatnonzero(big.any(axis=1))
        mad = np.median(np.abs(dev[rows]), axis=1)
        scale = MAD_TO_SIGMA * np.maximum(mad, cfg.mad_floor_v)
        out = np.zeros_like(big)
        z_rows = dev[rows] / scale[:, None]
        out[rows] = big[rows] & (np.abs(z_rows) >= cfg.outlier_z)
        # consecutive outlier frames per cell, carried
        col = np.arange(out.shape[0])[:, None]
        last_ok = np.maximum.accumulate(np.where(~out, col, -1), axis=0)
        runlen = col - last_ok + np.where(last_ok < 0, self.run[None, :], 0)
        runlen = np.where(out, runlen, 0)
        self.run = runlen[-1].astype(np.int64)
        hit = runlen >= cfg.outlier_frames
        alarms = []
        for cell in np.flatnonzero(hit.any(axis=0)).tolist():
            latch = self.out_latch.setdefault(cell, _Latch())
            for i in latch.edges(hit[:, cell], t, cfg.rearm_s):
                r = int(np.searchsorted(rows, i))
                z = float(z_rows[r, cell]) if r < rows.size and rows[r] == i else float("nan")
                d = float(dev[i, cell])
                sev = Severity.CRITICAL if abs(d) >= cfg.outlier_critical_v else Severity.WARNING
                onset = float(t[max(i - int(runlen[i, cell]) + 1, 0)])
                alarms.append(
                    Alarm(
                        self.serial,
                        AlarmKind.CELL_VOLTAGE_OUTLIER,
                        sev,
                        onset,
                        float(t[i]),
                        f"cell {cell} at {v[i, cell]:.3f} V vs median {med[i]:.3f} V, "
                        f"robust z {z:.1f}, for {runlen[i, cell]} frames",
                        subject=f"cell {cell}",
                        values={
                            "cell": float(cell),
                            "voltage_v": float(v[i, cell]),
                            "median_v": float(med[i]),
                            "robust_z": z,
                        },
                    )
                )
        return alarms

    def _drift(
        self, tel: PackTelemetry, t: FloatArray, dev: npt.NDArray[np.float32]
    ) -> list[Alarm]:
        cfg = self.cfg
        assert self.ewma is not None
        pos = np.clip(np.searchsorted(tel.time_s, t), 0, len(tel) - 1)
        soc = tel.soc[pos]
        lo, hi = cfg.plateau_soc
        keep = np.flatnonzero((soc >= lo) & (soc <= hi))
        if keep.size == 0:
            return []
        tk = t[keep]
        gaps = np.diff(np.concatenate(([self.prev_t], tk)))
        period = float(np.nanmedian(gaps)) if np.isfinite(gaps).any() else 60.0
        self.prev_t = float(tk[-1])
        a = math.exp(-max(period, 1e-3) / cfg.drift_tau_s)
        zi = (a * self.ewma)[None, :]
        e, zf = lfilter([1 - a], [1, -a], dev[keep].astype(np.float64), axis=0, zi=zi)
        self.ewma = np.asarray(zf[0] / a if a > 0 else e[-1], dtype=np.float64)
        big = np.abs(e) >= cfg.drift_abs_v
        if not big.any():
            return []
        alarms = []
        for r in np.flatnonzero(big.any(axis=1)).tolist():
            row = e[r]
            med = float(np.median(row))
            scale = MAD_TO_SIGMA * max(float(np.median(np.abs(row - med))), cfg.mad_floor_v)
            z = (row - med) / scale
            for cell in np.flatnonzero(
                (np.abs(row) >= cfg.drift_abs_v) & (np.abs(z) >= cfg.drift_z)
            ).tolist():
                latch = self.drift_latch.setdefault(cell, _Latch())
                # a drift is one long episode: re-arm only after a day without it
                if not latch.edges(np.array([True]), tk[r : r + 1], 86_400.0).size:
                    continue
                below = np.flatnonzero(np.abs(e[: r + 1, cell]) < cfg.drift_abs_v / 3)
                onset = float(tk[below[-1]]) if below.size else float(tk[0])
                alarms.append(
                    Alarm(
                        self.serial,
                        AlarmKind.CELL_DRIFT,
                        Severity.WARNING,
                        onset,
                        float(tk[r]),
                        f"cell {cell} drifted {row[cell] * 1e3:+.0f} mV from the pack median "
                        f"(EWMA, tau {cfg.drift_tau_s / 3600:g} h, on the OCV plateau), "
                        f"robust z {z[cell]:.1f}",
                        subject=f"cell {cell}",
                        values={
                            "cell": float(cell),
                            "deviation_v": float(row[cell]),
                            "robust_z": float(z[cell]),
                        },
                    )
                )
        return alarms


class _BmsFlagRule:
    """Rising edges of the BMS's own GB/T 32960.3 alarm flags, passed on as warnings."""

    def __init__(self, serial: str, cfg: DetectorConfig) -> None:
        self.serial, self.cfg = serial, cfg
        self.prev = 0
        self.latches: dict[int, _Latch] = {}

    def process(self, tel: PackTelemetry) -> list[Alarm]:
        f = tel.alarm_flags
        if not f.any() and self.prev == 0:
            return []
        prev = np.concatenate(([self.prev], f[:-1])).astype(np.uint32)
        rising = f & ~prev
        self.prev = int(f[-1])
        alarms = []
        for bit in range(19):
            hit = (rising >> np.uint32(bit)) & np.uint32(1)
            if not hit.any():
                continue
            latch = self.latches.setdefault(bit, _Latch())
            for i in latch.edges(hit.astype(np.bool_), tel.time_s, self.cfg.rearm_s):
                name = alarm_names(1 << bit)[0]
                alarms.append(
                    Alarm(
                        self.serial,
                        AlarmKind.BMS_ALARM,
                        Severity.WARNING,
                        float(tel.time_s[i]),
                        float(tel.time_s[i]),
                        f"BMS raised GB/T 32960.3 flag {name}",
                        subject=name,
                    )
                )
        return alarms


# --- per pack and fleet ------------------------------------------------------------------------


class PackMonitor:
    """Every rule for one pack, with bounded state. `process` takes time-ordered, valid chunks
    whose first reading is later than the previous chunk's last."""

    def __init__(
        self, serial: str, limits: PackLimits | None = None, config: DetectorConfig | None = None
    ) -> None:
        lim = limits or PackLimits()
        cfg = config or DetectorConfig()
        self.serial = serial
        self.last_time_s = -math.inf
        self.positions: tuple[Any, ...] | None = None
        self._thermal = _ThermalRule(serial, lim, cfg)
        self._spread = _SpreadRule(serial, lim, cfg)
        self._insulation = _InsulationRule(serial, lim, cfg)
        self._rest = _SelfDischargeRule(serial, lim, cfg)
        self._cells = _CellRule(serial, lim, cfg)
        self._flags = _BmsFlagRule(serial, cfg)
        self._probe_names: tuple[str, ...] = ()
        self._probes = _StuckRule(
            serial, cfg, cfg.stuck_peer_move_c, "°C", lambda k: self._probe_names[k]
        )

    def process(self, tel: PackTelemetry) -> list[Alarm]:
        if len(tel) == 0:
            return []
        if not self._probe_names:
            self._probe_names = tuple(f"probe {k} ({p})" for k, p in enumerate(tel.temp_positions))
        alarms = self._thermal.process(tel)
        alarms += self._spread.process(tel)
        alarms += self._insulation.process(tel)
        alarms += self._rest.process(tel)
        alarms += self._cells.process(tel)
        alarms += self._probes.process(tel.time_s, tel.temps_c)
        alarms += self._flags.process(tel)
        self.last_time_s = float(tel.time_s[-1])
        alarms.sort(key=lambda a: (a.detected_time_s, a.kind))
        return alarms


def detect(
    tel: PackTelemetry, limits: PackLimits | None = None, config: DetectorConfig | None = None
) -> list[Alarm]:
    """Batch detection over one pack's time-ordered, valid telemetry (see `clean_telemetry`)."""
    return PackMonitor(tel.serial, limits, config).process(tel)


@dataclass(frozen=True, slots=True)
class Rejection:
    """An input the detector did not use, and why."""

    item: object
    reasons: tuple[str, ...]


@dataclass(slots=True)
class FeedResult:
    alarms: list[Alarm] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    accepted: int = 0


class Detector:
    """Streaming detection for many packs: `feed` any iterable of readings, in arrival order.

    Invalid readings, out-of-order and duplicate times, and readings whose probe layout differs
    from the pack's first are rejected with reasons; nothing raises. State per pack is bounded
    (a few scalars per rule, a day of hourly means, one value per cell)."""

    def __init__(
        self,
        limits: Mapping[str, PackLimits] | Callable[[str], PackLimits] | None = None,
        config: DetectorConfig | None = None,
        telemetry_limits: TelemetryLimits = DEFAULT_LIMITS,
    ) -> None:
        self._limits = limits
        self._config = config or DetectorConfig()
        self._telemetry_limits = telemetry_limits
        self._monitors: dict[str, PackMonitor] = {}

    def _limits_for(self, serial: str) -> PackLimits:
        if self._limits is None:
            return PackLimits()
        if callable(self._limits):
            return self._limits(serial)
        return self._limits.get(serial, PackLimits())

    def monitor(self, serial: str) -> PackMonitor:
        mon = self._monitors.get(serial)
        if mon is None:
            mon = self._monitors[serial] = PackMonitor(
                serial, self._limits_for(serial), self._config
            )
        return mon

    def feed(self, readings: Iterable[object]) -> FeedResult:
        result = FeedResult()
        groups: dict[str, list[Reading]] = {}
        try:
            items = list(readings)
        except Exception as e:  # a broken iterator must not stop the caller's loop
            result.rejected.append(Rejection(readings, (f"could not iterate input: {e}",)))
            return result
        for r in items:
            reasons = check_reading(r, self._telemetry_limits)
            if reasons:
                result.rejected.append(Rejection(r, reasons))
                continue
            assert isinstance(r, Reading)
            mon = self.monitor(r.serial)
            group = groups.setdefault(r.serial, [])
            last = group[-1].time_s if group else mon.last_time_s
            if r.time_s == last:
                result.rejected.append(Rejection(r, (f"duplicate time {r.time_s}",)))
                continue
            if r.time_s < last:
                result.rejected.append(
                    Rejection(r, (f"out of order: time {r.time_s} before {last}",))
                )
                continue
            layout = (
                mon.positions
                if mon.positions is not None
                else (group[0].temp_positions if group else None)
            )
            if layout is not None and r.temp_positions != layout:
                result.rejected.append(Rejection(r, ("probe layout differs from this pack's",)))
                continue
            n_cells = r.cell_voltages_v
            if n_cells is not None and group:
                first = next(
                    (g.cell_voltages_v for g in group if g.cell_voltages_v is not None), None
                )
                if first is not None and len(first) != len(n_cells):
                    r = replace(r, cell_voltages_v=None)
                    result.rejected.append(
                        Rejection(r, ("cell count changed; cell frame dropped",))
                    )
            group.append(r)
        for serial, group in groups.items():
            mon = self.monitor(serial)
            mon.positions = group[0].temp_positions
            result.alarms += mon.process(build_pack_telemetry(group))
            result.accepted += len(group)
        result.alarms.sort(key=lambda a: a.detected_time_s)
        return result

    def feed_telemetry(self, tel: PackTelemetry) -> list[Alarm]:
        """Columnar streaming: the next chunk of one pack (valid, later than what came before)."""
        mon = self.monitor(tel.serial)
        if len(tel) and tel.time_s[0] <= mon.last_time_s:
            keep = np.flatnonzero(tel.time_s > mon.last_time_s)
            if keep.size == 0:
                return []
            tel = tel.slice(int(keep[0]), len(tel))
        return mon.process(tel)


def clean_telemetry(
    tel: PackTelemetry, limits: TelemetryLimits = DEFAULT_LIMITS
) -> tuple[PackTelemetry, int]:
    """Drop rows with impossible values, out-of-order or duplicate times; returns the clean
    telemetry (a copy where rows were dropped) and how many rows were dropped."""
    t = tel.time_s
    ok = np.isfinite(t)
    ok &= np.concatenate(
        ([True], t[1:] > np.maximum.accumulate(np.where(np.isfinite(t), t, -np.inf))[:-1])
    )
    for col, lo, hi in (
        (tel.voltage_v, 0.0, limits.voltage_max_v),
        (tel.current_a, -limits.current_abs_max_a, limits.current_abs_max_a),
        (tel.cell_v_min, limits.cell_v_min_v, limits.cell_v_max_v),
        (tel.cell_v_max, limits.cell_v_min_v, limits.cell_v_max_v),
        (tel.soc, 0.0, 1.0),
        (tel.insulation_ohm, 0.0, limits.insulation_max_ohm),
    ):
        ok &= (col >= lo) & (col <= hi)
    ok &= ((tel.temps_c >= limits.temp_min_c) & (tel.temps_c <= limits.temp_max_c)).all(axis=0)
    dropped = int((~ok).sum())
    if dropped == 0:
        return tel, 0
    idx = np.flatnonzero(ok)
    keep_cells = None
    if tel.cell_time_s is not None and tel.cell_v is not None:
        keep_cells = np.isin(tel.cell_time_s, t[idx])
    cleaned = PackTelemetry(
        serial=tel.serial,
        time_s=t[idx],
        soc=tel.soc[idx],
        voltage_v=tel.voltage_v[idx],
        current_a=tel.current_a[idx],
        cell_v_min=tel.cell_v_min[idx],
        cell_v_max=tel.cell_v_max[idx],
        temps_c=tel.temps_c[:, idx],
        temp_positions=tel.temp_positions,
        insulation_ohm=tel.insulation_ohm[idx],
        alarm_flags=tel.alarm_flags[idx],
        cell_time_s=None
        if keep_cells is None or tel.cell_time_s is None
        else tel.cell_time_s[keep_cells],
        cell_v=None if keep_cells is None or tel.cell_v is None else tel.cell_v[keep_cells],
        coolant_in_c=None if tel.coolant_in_c is None else tel.coolant_in_c[idx],
        coolant_out_c=None if tel.coolant_out_c is None else tel.coolant_out_c[idx],
    )
    return cleaned, dropped


__all__ = [
    "Alarm",
    "AlarmKind",
    "Detector",
    "DetectorConfig",
    "FeedResult",
    "Gb32960Alarm",
    "PackLimits",
    "PackMonitor",
    "Rejection",
    "Severity",
    "clean_telemetry",
    "detect",
]
