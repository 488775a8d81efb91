"""Field state-of-health estimation from telemetry: capacity from charge throughput between SoC
anchors, resistance from the voltage response to current steps, each with a 95 % interval.

LFP's OCV is flat between about 30 % and 90 % SoC, so a rest voltage there says little about SoC.
Capacity therefore uses only two kinds of anchor: the end of a full charge (SoC 1), and rests
long enough to relax whose OCV lies on a steep part of the curve; each anchor carries an SoC
uncertainty from the local OCV slope, and the throughput between an anchor and a full charge is
counted from the current (coulomb counting). Preconditions: time-ordered, valid telemetry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from openswap.health.lfp import LFP_OCV, OcvCurve, resistance_factor
from openswap.health.telemetry import PackTelemetry

FloatArray = npt.NDArray[np.float64]
Z95 = 1.959964


@dataclass(frozen=True, slots=True)
class EstimatorConfig:
    """Assumptions of the estimators [estimate where not physics]."""

    rest_current_a: float = 2.0
    anchor_rest_s: float = 1_200.0  # four time constants of the slow RC branch
    anchor_sigma_v: float = 0.002  # per cell: OCV model error plus measurement
    anchor_max_sigma_soc: float = 0.03  # anchors on the plateau are not used
    full_cell_v: float = 3.55  # a charge ending with the highest cell this high is full
    full_sigma_soc: float = 0.005
    min_soc_span: float = 0.3
    max_pair_gap_s: float = 24 * 3_600.0
    current_gain_sigma: float = 0.005  # relative, current sensor after calibration
    step_min_c_rate: float = 0.15  # current step as a fraction of the rated capacity per hour
    step_steady_c_rate: float = 0.02  # the current before the step must be this steady
    step_soc: tuple[float, float] = (0.15, 0.95)
    resistance_model_sigma: float = 0.015  # relative: RC overlap, temperature correction


@dataclass(frozen=True, slots=True)
class CapacitySample:
    """One throughput measurement between an SoC anchor and a full charge."""

    time_s: float  # of the full charge
    capacity_ah: float
    sigma_ah: float
    soc_anchor: float
    direction: str  # "charge" (anchor then full) or "discharge" (full then anchor)


@dataclass(frozen=True, slots=True)
class CapacityEstimate:
    serial: str
    soh: float  # capacity / rated capacity
    soh_low: float  # 95 % interval
    soh_high: float
    capacity_ah: float
    samples: tuple[CapacitySample, ...] = field(default=())

    @property
    def usable(self) -> bool:
        return bool(self.samples) and math.isfinite(self.soh)

    def to_dict(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "soh": self.soh,
            "soh_low": self.soh_low,
            "soh_high": self.soh_high,
            "capacity_ah": self.capacity_ah,
            "n_samples": len(self.samples),
        }


@dataclass(frozen=True, slots=True)
class ResistanceEstimate:
    serial: str
    r_pack_25c_ohm: float  # 1-second pack resistance, corrected to 25 °C
    r_low_ohm: float
    r_high_ohm: float
    soh: float  # new resistance / present resistance (1 new, 0.5 doubled)
    soh_low: float
    soh_high: float
    n_steps: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "r_pack_25c_ohm": self.r_pack_25c_ohm,
            "r_low_ohm": self.r_low_ohm,
            "r_high_ohm": self.r_high_ohm,
            "soh": self.soh,
            "soh_low": self.soh_low,
            "soh_high": self.soh_high,
            "n_steps": self.n_steps,
        }


def _runs(mask: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Start and stop (exclusive) indices of runs of True."""
    d = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def estimate_capacity(
    tel: PackTelemetry,
    rated_capacity_ah: float,
    n_series: int,
    ocv: OcvCurve = LFP_OCV,
    config: EstimatorConfig | None = None,
) -> CapacityEstimate:
    """Capacity SoH of one pack with a 95 % interval (NaN when no usable anchor pair exists).

    Each sample is |Ah| between an anchor and a full charge divided by (1 - anchor SoC); samples
    are combined by inverse variance, the interval widened by the scatter when it exceeds the
    stated uncertainties, plus the current-sensor gain uncertainty (fully correlated)."""
    cfg = config or EstimatorConfig()
    t = tel.time_s
    i = tel.current_a.astype(np.float64)
    dt = np.diff(t, prepend=t[0])
    # Cumulative discharged charge (Ah), rectangle rule with the interval ending at each sample.
    ah = np.cumsum(i * dt) / 3600.0
    rest = np.abs(i) < cfg.rest_current_a
    r_start, r_stop = _runs(rest)
    anchors: list[tuple[int, float, float]] = []  # (index, soc, sigma)
    for a, b in zip(r_start.tolist(), r_stop.tolist(), strict=True):
        last = b - 1
        if t[last] - t[a] < cfg.anchor_rest_s:
            continue
        v_cell = float(tel.voltage_v[last]) / n_series
        soc = float(ocv.soc_at(v_cell))
        slope = float(ocv.slope_v(soc))
        sigma = cfg.anchor_sigma_v / max(slope, 1e-6)
        if sigma <= cfg.anchor_max_sigma_soc:
            anchors.append((last, soc, sigma))
    # Full charges: the last sample of a charging run whose highest cell reached full voltage.
    c_start, c_stop = _runs(i < -cfg.rest_current_a)
    fulls = [
        b - 1
        for a, b in zip(c_start.tolist(), c_stop.tolist(), strict=True)
        if float(tel.cell_v_max[b - 1]) >= cfg.full_cell_v and b - a > 10
    ]
    samples: list[CapacitySample] = []
    full_arr = np.array(fulls, dtype=np.intp)
    for idx, soc, sigma in anchors:
        span = 1.0 - soc
        if span < cfg.min_soc_span or full_arr.size == 0:
            continue
        k = int(np.searchsorted(full_arr, idx))
        for j, direction in ((k, "charge"), (k - 1, "discharge")):
            if not 0 <= j < full_arr.size:
                continue
            f = int(full_arr[j])
            if abs(t[f] - t[idx]) > cfg.max_pair_gap_s:
                continue
            throughput = abs(float(ah[f] - ah[idx]))
            cap = throughput / span
            sig = cap * math.hypot(sigma, cfg.full_sigma_soc) / span
            samples.append(CapacitySample(float(t[f]), cap, sig, soc, direction))
    if not samples:
        nan = float("nan")
        return CapacityEstimate(tel.serial, nan, nan, nan, nan, ())
    caps = np.array([s.capacity_ah for s in samples])
    sigmas = np.array([s.sigma_ah for s in samples])
    w = 1.0 / sigmas**2
    mean = float((w * caps).sum() / w.sum())
    se = math.sqrt(1.0 / w.sum())
    if caps.size > 1:
        chi2 = float((w * (caps - mean) ** 2).sum() / (caps.size - 1))
        se *= math.sqrt(max(chi2, 1.0))
    se = math.hypot(se, cfg.current_gain_sigma * mean)
    soh = mean / rated_capacity_ah
    half = Z95 * se / rated_capacity_ah
    return CapacityEstimate(tel.serial, soh, soh - half, soh + half, mean, tuple(samples))


def estimate_resistance(
    tel: PackTelemetry,
    rated_capacity_ah: float,
    r_new_ohm: float,
    config: EstimatorConfig | None = None,
) -> ResistanceEstimate:
    """1-second pack resistance at 25 °C from current steps, with a 95 % interval, and resistance
    SoH = `r_new_ohm` / R (`r_new_ohm` is the new pack's 1-second resistance at 25 °C).

    A step is a change of at least `step_min_c_rate` x C within one sample after a steady sample;
    R = -dV/dI per step (current positive on discharge), corrected to 25 °C by the Arrhenius
    factor at the mean probe temperature; the median of the steps is the estimate."""
    cfg = config or EstimatorConfig()
    i = tel.current_a.astype(np.float64)
    v = tel.voltage_v.astype(np.float64)
    t = tel.time_s
    di = np.diff(i)
    dv = np.diff(v)
    steady = np.concatenate(([False], np.abs(di[:-1]) < cfg.step_steady_c_rate * rated_capacity_ah))
    soc = tel.soc[1:]
    ok = (
        (np.abs(di) >= cfg.step_min_c_rate * rated_capacity_ah)
        & steady
        & (np.diff(t) <= 1.5)
        & (soc >= cfg.step_soc[0])
        & (soc <= cfg.step_soc[1])
    )
    idx = np.flatnonzero(ok)
    if idx.size < 5:
        nan = float("nan")
        return ResistanceEstimate(tel.serial, nan, nan, nan, nan, nan, nan, int(idx.size))
    temp = tel.temps_c[:, idx + 1].mean(axis=0).astype(np.float64)
    r = -dv[idx] / di[idx] / resistance_factor(temp)
    med = float(np.median(r))
    mad = float(np.median(np.abs(r - med)))
    se = 1.2533 * 1.4826 * mad / math.sqrt(r.size)  # standard error of a median
    se = math.hypot(se, cfg.resistance_model_sigma * med)
    lo, hi = med - Z95 * se, med + Z95 * se
    return ResistanceEstimate(
        tel.serial, med, lo, hi, r_new_ohm / med, r_new_ohm / hi, r_new_ohm / lo, int(r.size)
    )
