"""Synthetic pack telemetry with injected, known faults: the ground truth the estimators and
detectors are measured against.

Each pack runs the duty of a swap pack (rack rest, drive, rest after swap-out, CC charge to full),
through an LFP OCV curve with its flat plateau, a two-RC equivalent circuit, and a two-node
thermal model (edge and centre) with a cooling loop. Packs are simulated in blocks as 2-D numpy
arrays (packs x samples); only the duty schedule is built per pack. Fault models and constants
are described in docs/design/health.md; constants marked [estimate] there are calibrations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

from openswap.health.lfp import LFP_OCV, one_second_resistance_share, resistance_factor
from openswap.health.telemetry import Gb32960Alarm, PackTelemetry, SensorPosition

FloatArray = npt.NDArray[np.float64]
SECONDS_PER_DAY = 86_400.0
SECONDS_PER_HOUR = 3_600.0

# Two-RC split of the cell's DC resistance and its time constants [estimate].
R0_SHARE, R1_SHARE = 0.6, 0.2
TAU1_S, TAU2_S = 30.0, 300.0
# Thermal model [estimate]: steady rise at 1C continuous heat (edge above coolant/ambient, and
# centre above edge, the latter the seed's 5-8 °C backpack spread) and time constants.
EDGE_RISE_AT_1C_C, SPREAD_AT_1C_C = 8.0, 6.0
TAU_EDGE_S, TAU_SPREAD_S = 1_800.0, 1_200.0
COOLANT_FLOW_W_PER_K = 1_800.0  # about 0.5 kg/s of glycol-water
# Measurement resolution as GB/T 32960.3 encodes it: 0.1 V pack, 0.1 A, 1 mV cell, 1 °C probe.
PACK_V_RESOLUTION, CURRENT_RESOLUTION, CELL_V_RESOLUTION, TEMP_RESOLUTION = 0.1, 0.1, 0.001, 1.0


@dataclass(frozen=True, slots=True)
class SynthPackSpec:
    """One synthetic pack: a large-format LFP pack (default 280 Ah, 1P168S, about 150 kWh)."""

    serial: str
    maker: str = "Synthetic"
    model: str = "LFP 280Ah 1P168S"
    n_series: int = 168
    capacity_ah: float = 280.0  # rated
    soh: float = 1.0  # true capacity SoH at the start
    r_cell_dc_25c_ohm: float = 0.25e-3  # new cell, DC (ohmic + both RC parts), 25 °C
    resistance_growth: float = 1.0  # true resistance / new resistance at the start
    ambient_c: float = 25.0
    n_probes: int = 8  # first half edge, second half centre
    liquid_cooled: bool = True
    insulation_ohm: float = 5e6  # median healthy insulation resistance

    @property
    def probe_positions(self) -> tuple[SensorPosition, ...]:
        half = self.n_probes // 2
        return (SensorPosition.EDGE,) * half + (SensorPosition.CENTRE,) * (self.n_probes - half)

    @property
    def r_pack_1s_new_ohm(self) -> float:
        """Pack resistance seen 1 s after a current step, new, 25 °C (what estimators measure)."""
        share = one_second_resistance_share(TAU1_S, TAU2_S, R0_SHARE, R1_SHARE)
        return self.n_series * self.r_cell_dc_25c_ohm * share


# --- faults ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CapacityFade:
    serial: str
    onset_s: float
    soh_loss_per_day: float


@dataclass(frozen=True, slots=True)
class ResistanceGrowth:
    serial: str
    onset_s: float
    growth_per_day: float  # added to the resistance ratio per day


@dataclass(frozen=True, slots=True)
class CoolingFailure:
    serial: str
    onset_s: float
    ramp_s: float = 4 * SECONDS_PER_HOUR
    factor: float = 3.5  # heat rise and spread multiplier once fully failed


@dataclass(frozen=True, slots=True)
class DriftingCell:
    serial: str
    onset_s: float
    cell_index: int
    drift_v_per_h: float = 0.004  # voltage falls by this much per hour (micro-short)


@dataclass(frozen=True, slots=True)
class StuckSensor:
    serial: str
    onset_s: float
    probe_index: int
    value_c: float | None = None  # None: stuck at its reading at onset


@dataclass(frozen=True, slots=True)
class ThermalRunaway:
    serial: str
    onset_s: float
    cell_index: int
    rate_c_per_s: float = 2.5  # temperature rise at the nearest probe


@dataclass(frozen=True, slots=True)
class SelfDischarge:
    serial: str
    onset_s: float
    leak_a: float  # internal leakage current, not seen by the current sensor


@dataclass(frozen=True, slots=True)
class InsulationDecline:
    serial: str
    onset_s: float
    halving_s: float = 2 * SECONDS_PER_HOUR


Fault = (
    CapacityFade
    | ResistanceGrowth
    | CoolingFailure
    | DriftingCell
    | StuckSensor
    | ThermalRunaway
    | SelfDischarge
    | InsulationDecline
)


@dataclass(frozen=True, slots=True)
class PackTruth:
    """What really happened in one synthetic pack."""

    serial: str
    spec: SynthPackSpec
    faults: tuple[Fault, ...]
    start_s: float
    end_s: float
    r_pack_1s_mean_ohm: float  # true 1-second pack resistance at 25 °C, mean over the period

    def soh_at(self, time_s: float | FloatArray) -> FloatArray:
        """True capacity SoH at `time_s`."""
        return _soh_curve(self.spec, self.faults, np.asarray(time_s, dtype=np.float64))

    @property
    def soh_mean(self) -> float:
        t = np.linspace(self.start_s, self.end_s, 97)
        return float(self.soh_at(t).mean())

    def fault(self, kind: type[Fault]) -> Fault | None:
        return next((f for f in self.faults if isinstance(f, kind)), None)


@dataclass(slots=True)
class SynthResult:
    telemetry: dict[str, PackTelemetry] = field(default_factory=dict)
    truth: dict[str, PackTruth] = field(default_factory=dict)


def _soh_curve(spec: SynthPackSpec, faults: Sequence[Fault], t: FloatArray) -> FloatArray:
    soh = np.full(t.shape, spec.soh)
    for f in faults:
        if isinstance(f, CapacityFade):
            soh = soh - f.soh_loss_per_day * np.maximum(t - f.onset_s, 0.0) / SECONDS_PER_DAY
    return soh


def _growth_curve(spec: SynthPackSpec, faults: Sequence[Fault], t: FloatArray) -> FloatArray:
    g = np.full(t.shape, spec.resistance_growth)
    for f in faults:
        if isinstance(f, ResistanceGrowth):
            g = g + f.growth_per_day * np.maximum(t - f.onset_s, 0.0) / SECONDS_PER_DAY
    return g


# --- duty schedule -----------------------------------------------------------------------------


def _schedule(
    spec: SynthPackSpec, faults: Sequence[Fault], t: FloatArray, dt: float, rng: np.random.Generator
) -> tuple[FloatArray, float]:
    """True current (A, + discharge) of one pack and its initial charge content (Ah).

    Drives deliver exactly their planned charge (noise is made zero-mean per drive) and charges
    end exactly at full, so full-charge points are true SoC 1 anchors."""
    n = t.size
    cap_c = spec.capacity_ah

    def q_at(i: int) -> float:
        j = min(i, n - 1)
        return cap_c * float(_soh_curve(spec, faults, t[j : j + 1])[0])

    current = np.zeros(n)
    soc0 = float(rng.uniform(0.3, 0.95))
    content0 = soc0 * q_at(0)
    content = content0
    # Piecewise-constant drive factor (accelerate, cruise, regenerate), phases of about 20 s.
    n_phase = n // 5 + 2
    lengths = rng.geometric(1 / 20, size=n_phase)
    levels = np.clip(1.0 + 0.6 * rng.standard_normal(n_phase), -0.8, 2.5)
    factor = np.repeat(levels, lengths)
    while factor.size < n:
        factor = np.concatenate((factor, factor))
    factor = factor[:n] + 0.02 * rng.standard_normal(n)
    i = 0
    state = "rest_out" if soc0 < 0.5 else "rest_rack"
    while i < n:
        if state == "rest_rack":
            dur = (
                rng.uniform(600, 3 * 3600)
                if rng.random() < 0.7
                else rng.uniform(3 * 3600, 7 * 3600)
            )
            i += max(1, round(dur / dt))
            state = "drive"
        elif state == "rest_out":
            i += max(1, round(rng.uniform(1200, 5400) / dt))
            state = "charge"
        elif state == "drive":
            soc_end = rng.uniform(0.08, 0.4)
            delta_ah = content - soc_end * q_at(i)
            if delta_ah <= 0.05 * cap_c:
                state = "charge"
                continue
            i_mean = rng.uniform(0.3, 0.6) * cap_c
            m = max(2, round(delta_ah * SECONDS_PER_HOUR / (i_mean * dt)))
            i_mean = delta_ah * SECONDS_PER_HOUR / (m * dt)
            seg = factor[i : i + m] * i_mean
            seg += i_mean - seg.mean() if seg.size == m else 0.0
            current[i : i + seg.size] = seg
            content -= float(seg.sum()) * dt / SECONDS_PER_HOUR
            i += m
            state = "rest_out"
        else:  # charge to full
            i_c = rng.uniform(0.5, 1.0) * cap_c
            m = max(1, math.ceil((q_at(i) - content) * SECONDS_PER_HOUR / (i_c * dt)))
            m = max(1, math.ceil((q_at(i + m) - content) * SECONDS_PER_HOUR / (i_c * dt)))
            i_c = (q_at(i + m) - content) * SECONDS_PER_HOUR / (m * dt)
            stop = min(i + m, n)
            current[i:stop] = -i_c
            content -= -i_c * (stop - i) * dt / SECONDS_PER_HOUR
            i += m
            state = "rest_rack"
    return current, content0


# --- physics -----------------------------------------------------------------------------------


def _first_order(x: FloatArray, tau_s: float, dt: float) -> FloatArray:
    """y' = (x - y)/tau, discretised exactly for piecewise-constant x, along the last axis."""
    a = math.exp(-dt / tau_s)
    return np.asarray(lfilter([1 - a], [1, -a], x, axis=-1), dtype=np.float64)


def synthesise(
    pack_specs: Sequence[SynthPackSpec],
    days: float,
    rate_hz: float,
    faults: Sequence[Fault],
    rng: np.random.Generator,
    *,
    cell_period_s: float = 60.0,
    start_s: float = 0.0,
    block_packs: int = 32,
) -> SynthResult:
    """Readings of `pack_specs` over `days` at `rate_hz`, with `faults` injected, and the truth.

    Per-cell voltage frames come every `cell_period_s` (rounded to whole samples). Same specs,
    faults and generator state give the same arrays, byte for byte."""
    if rate_hz <= 0 or days <= 0:
        raise ValueError("rate_hz and days must be positive")
    dt = 1.0 / rate_hz
    n = round(days * SECONDS_PER_DAY * rate_hz)
    t = start_s + dt * np.arange(n, dtype=np.float64)
    t.setflags(write=False)  # shared by every pack's telemetry
    by_pack: dict[str, list[Fault]] = {}
    for f in faults:
        by_pack.setdefault(f.serial, []).append(f)
    out = SynthResult()
    for b in range(0, len(pack_specs), block_packs):
        block = pack_specs[b : b + block_packs]
        _synth_block(block, by_pack, t, dt, cell_period_s, rng, out)
    return out


def _synth_block(
    specs: Sequence[SynthPackSpec],
    by_pack: dict[str, list[Fault]],
    t: FloatArray,
    dt: float,
    cell_period_s: float,
    rng: np.random.Generator,
    out: SynthResult,
) -> None:
    p, n = len(specs), t.size
    rel = t - t[0]
    current = np.empty((p, n))
    content0 = np.empty((p, 1))
    for k, s in enumerate(specs):
        current[k], content0[k, 0] = _schedule(s, by_pack.get(s.serial, []), t, dt, rng)
    cap = np.array([[s.capacity_ah] for s in specs])
    soh = np.stack([_soh_curve(s, by_pack.get(s.serial, []), t) for s in specs])
    growth = np.stack([_growth_curve(s, by_pack.get(s.serial, []), t) for s in specs])
    n_series = np.array([[s.n_series] for s in specs], dtype=np.float64)
    r_dc = np.array([[s.r_cell_dc_25c_ohm] for s in specs]) * growth  # cell, 25 °C
    leak = np.zeros((p, n))
    fail = np.ones((p, n))
    for k, s in enumerate(specs):
        for f in by_pack.get(s.serial, []):
            if isinstance(f, SelfDischarge):
                leak[k] += np.where(t >= f.onset_s, f.leak_a, 0.0)
            elif isinstance(f, CoolingFailure):
                fail[k] *= 1 + (f.factor - 1) * np.clip((t - f.onset_s) / f.ramp_s, 0.0, 1.0)
    content = content0 - np.cumsum(current + leak, axis=1) * (dt / SECONDS_PER_HOUR)
    soc = np.clip(content / (cap * soh), 0.0, 1.0)

    # Thermal: heat at 25 °C resistance drives an edge node and a centre-minus-edge spread.
    phase = rng.uniform(0, 2 * np.pi, size=(p, 1))
    ambient = np.array([[s.ambient_c] for s in specs]) + 4.0 * np.sin(
        2 * np.pi * rel / SECONDS_PER_DAY + phase
    )
    heat_w = current**2 * r_dc * n_series
    heat_1c_w = (cap**2) * np.array([[s.r_cell_dc_25c_ohm] for s in specs]) * n_series
    edge = ambient + _first_order(heat_w * fail * (EDGE_RISE_AT_1C_C / heat_1c_w), TAU_EDGE_S, dt)
    spread = _first_order(heat_w * fail * (SPREAD_AT_1C_C / heat_1c_w), TAU_SPREAD_S, dt)
    centre = edge + spread
    cell_temp = edge + 0.5 * spread

    # Electrical: OCV minus ohmic and two RC overpotentials, resistance at cell temperature.
    # Temperature moves slowly: evaluate the Arrhenius factor every 16 samples.
    coarse = resistance_factor(cell_temp[:, ::16])
    r_now = r_dc * np.repeat(coarse, 16, axis=1)[:, :n]
    v1 = _first_order(current * r_now * R1_SHARE, TAU1_S, dt)
    v2 = _first_order(current * r_now * (1 - R0_SHARE - R1_SHARE), TAU2_S, dt)
    v_cell = LFP_OCV.voltage_v(soc) - current * r_now * R0_SHARE - v1 - v2

    temps = np.empty((p, max(s.n_probes for s in specs), n), dtype=np.float32)
    for k, s in enumerate(specs):
        tel, truth = _pack_outputs(
            s,
            by_pack.get(s.serial, []),
            t,
            dt,
            cell_period_s,
            rng,
            current[k],
            soc[k],
            v_cell[k],
            edge[k],
            centre[k],
            ambient[k],
            heat_w[k],
            fail[k],
            r_now[k],
            temps[k, : s.n_probes],
        )
        r_1s = s.r_pack_1s_new_ohm * float(growth[k].mean())
        out.telemetry[s.serial] = tel
        out.truth[s.serial] = PackTruth(s.serial, s, tuple(truth), float(t[0]), float(t[-1]), r_1s)


def _pack_outputs(
    s: SynthPackSpec,
    faults: Sequence[Fault],
    t: FloatArray,
    dt: float,
    cell_period_s: float,
    rng: np.random.Generator,
    current: FloatArray,
    soc: FloatArray,
    v_cell: FloatArray,
    edge: FloatArray,
    centre: FloatArray,
    ambient: FloatArray,
    heat_w: FloatArray,
    fail: FloatArray,
    r_now: FloatArray,
    temps_out: npt.NDArray[np.float32],
) -> tuple[PackTelemetry, list[Fault]]:
    n, n_cells, k_probes = t.size, s.n_series, s.n_probes
    f32 = np.float32
    # Healthy cell-to-cell spread: OCV offsets (SoC mismatch) and resistance deviations.
    ocv_off = rng.normal(0.0, 0.0015, n_cells)
    r_dev = rng.normal(0.0, 0.05, n_cells) * R0_SHARE  # fraction of r_now
    # Faulty cell traces: a drift (micro-short) and a runaway cell's voltage collapse.
    fault_cell: dict[int, FloatArray] = {}
    probe_add: FloatArray | None = None
    stuck: list[StuckSensor] = []
    insul_factor = np.ones(n)
    for f in faults:
        if isinstance(f, DriftingCell):
            fault_cell.setdefault(f.cell_index, np.zeros(n))
            fault_cell[f.cell_index] -= f.drift_v_per_h * np.maximum(t - f.onset_s, 0) / 3600
        elif isinstance(f, ThermalRunaway):
            since = t - f.onset_s
            probe = min(k_probes - 1, f.cell_index * k_probes // n_cells)
            if probe_add is None:
                probe_add = np.zeros((k_probes, n))
            probe_add[probe] += f.rate_c_per_s * np.clip(since, 0.0, 120.0)
            nb = probe + 1 if probe + 1 < k_probes else probe - 1
            probe_add[nb] += 0.3 * f.rate_c_per_s * np.clip(since - 5.0, 0.0, 120.0)
            collapse = 0.6 * np.clip((since - 2.0) / 4.0, 0.0, 1.0)
            fault_cell.setdefault(f.cell_index, np.zeros(n))
            fault_cell[f.cell_index] -= collapse * v_cell  # relative drop of that cell
        elif isinstance(f, StuckSensor):
            stuck.append(f)
        elif isinstance(f, InsulationDecline):
            insul_factor *= 0.5 ** (np.maximum(t - f.onset_s, 0.0) / f.halving_s)

    # Pack voltage, current as measured.
    v_pack = n_cells * v_cell + ocv_off.sum() + sum(v[:] for v in fault_cell.values())
    v_pack = (
        np.rint((v_pack + 0.05 * rng.standard_normal(n, dtype=f32)) / PACK_V_RESOLUTION)
        * PACK_V_RESOLUTION
    )
    i_meas = (
        np.rint((current + 0.2 * rng.standard_normal(n, dtype=f32)) / CURRENT_RESOLUTION)
        * CURRENT_RESOLUTION
    )

    # Min/max cell: lower/upper envelope of the healthy cells' lines in current, plus faulty ones.
    grid = np.linspace(current.min() - 1, current.max() + 1, 65)
    r_mean = float(np.median(r_now))
    lines = ocv_off[None, :] - grid[:, None] * r_mean * r_dev[None, :]
    v_min = v_cell + np.interp(current, grid, lines.min(axis=1)) - 0.0015
    v_max = v_cell + np.interp(current, grid, lines.max(axis=1)) + 0.0015
    for c, extra in fault_cell.items():
        mine = v_cell + ocv_off[c] - current * r_now * r_dev[c] + extra
        v_min = np.minimum(v_min, mine)

    # Per-cell frames on their own slower clock.
    step = max(1, round(cell_period_s / dt))
    idx = np.arange(0, n, step)
    cells = (
        v_cell[idx, None]
        + ocv_off[None, :]
        - (current[idx] * r_now[idx])[:, None] * r_dev[None, :]
        + rng.normal(0, 0.001, (idx.size, n_cells))
    )
    for c, extra in fault_cell.items():
        cells[:, c] += extra[idx]
    cells = np.round(cells / CELL_V_RESOLUTION) * CELL_V_RESOLUTION
    v_min = np.round(v_min / CELL_V_RESOLUTION) * CELL_V_RESOLUTION
    v_max = np.round(v_max / CELL_V_RESOLUTION) * CELL_V_RESOLUTION
    v_min[idx] = cells.min(axis=1)
    v_max[idx] = cells.max(axis=1)
    v_min = np.clip(v_min, 0.0, 5.0)

    # Probes: node temperature, a fixed offset per probe, noise, 1 °C resolution; probe-major.
    half = k_probes // 2
    offsets = rng.normal(0, 0.5, k_probes).astype(f32)
    temps = temps_out
    temps[:half] = edge.astype(f32)[None, :]
    temps[half:] = centre.astype(f32)[None, :]
    temps += offsets[:, None]
    temps += rng.random((k_probes, n), dtype=f32) - f32(0.5)  # uniform noise, sd 0.29 °C
    if probe_add is not None:
        temps += probe_add.astype(f32)
    np.rint(temps, out=temps)
    np.clip(temps, -40.0, 210.0, out=temps)
    for f in stuck:
        on = int(np.searchsorted(t, f.onset_s))
        if on < n:
            temps[f.probe_index, on:] = temps[f.probe_index, on] if f.value_c is None else f.value_c
    t_hi = temps.max(axis=0)
    t_lo = temps.min(axis=0)

    insulation = s.insulation_ohm * math.exp(rng.normal(0, 0.3))
    insul = insulation * (1 + 0.25 * np.sin(2 * np.pi * t / SECONDS_PER_DAY + rng.uniform(0, 6.3)))
    insul = (
        np.rint(insul * insul_factor * (1 + 0.02 * rng.standard_normal(n, dtype=f32)) / 1e3) * 1e3
    )

    coolant_in = coolant_out = None
    if s.liquid_cooled:
        coolant_in = np.rint((ambient - 3 + 0.1 * rng.standard_normal(n, dtype=f32)) * 10) / 10
        coolant_out = coolant_in + np.rint(heat_w * fail * (10 / COOLANT_FLOW_W_PER_K)) / 10

    flags = np.zeros(n, dtype=np.uint32)
    flags[t_hi - t_lo > 15] |= np.uint32(Gb32960Alarm.TEMPERATURE_DIFFERENCE)
    flags[t_hi >= 60] |= np.uint32(Gb32960Alarm.HIGH_TEMPERATURE)
    max_work_v = n_cells * 3.65
    flags[insul / max_work_v < 100] |= np.uint32(Gb32960Alarm.INSULATION)
    flags[v_min < 2.5] |= np.uint32(Gb32960Alarm.CELL_UNDER_VOLTAGE)

    tel = PackTelemetry(
        serial=s.serial,
        time_s=t,
        soc=(np.round(soc * 100) / 100).astype(f32),
        voltage_v=v_pack.astype(f32),
        current_a=i_meas.astype(f32),
        cell_v_min=v_min.astype(f32),
        cell_v_max=v_max.astype(f32),
        temps_c=temps_out,
        temp_positions=s.probe_positions,
        insulation_ohm=insul.astype(f32),
        alarm_flags=flags,
        cell_time_s=t[idx],
        cell_v=cells.astype(f32),
        coolant_in_c=None if coolant_in is None else coolant_in.astype(f32),
        coolant_out_c=None if coolant_out is None else coolant_out.astype(f32),
    )
    return tel, list(faults)


def build_fleet_specs(
    n_packs: int, rng: np.random.Generator, *, prefix: str = "P", makers: Sequence[str] = ("A", "B")
) -> list[SynthPackSpec]:
    """`n_packs` healthy packs with realistic spread: SoH 0.82-1.0, resistance 1.0-1.4x new,
    ambient 15-32 °C."""
    return [
        SynthPackSpec(
            serial=f"{prefix}{k:05d}",
            maker=makers[k % len(makers)],
            soh=float(rng.uniform(0.82, 1.0)),
            resistance_growth=float(rng.uniform(1.0, 1.4)),
            ambient_c=float(rng.uniform(15, 32)),
        )
        for k in range(n_packs)
    ]
