"""Pack-health anomaly detection over a day of 1,000 packs at 1 Hz (86.4 M readings).

Batch detection (`openswap.health.detection.detect`, every rule, one chunk per pack-day) is
timed per pack and summed; telemetry is generated in blocks of 50 packs (not timed with it).

Reference, measured in the same run on the same arrays: one numpy pass over every column a
detector must read (np.diff of time and of the hottest probe, a comparison on current, insulation,
cell extremes and each probe, and one partition of the per-cell frames): the floor of any
detector that looks at all the data once. Target: detection under 10 s.
"""

from __future__ import annotations

import time

import numpy as np

from openswap.health.detection import detect
from openswap.health.synth import build_fleet_specs, synthesise
from openswap.health.telemetry import PackTelemetry

BLOCK = 50


def _scan_once(tel: PackTelemetry) -> int:
    hits = int((np.diff(tel.time_s) > 2.0).sum())
    hits += int((np.diff(tel.temps_c.max(axis=0)) >= 1.0).sum())
    hits += int((np.abs(tel.current_a) < 2.0).sum())
    hits += int((tel.insulation_ohm < 61_320.0).sum())
    hits += int((tel.cell_v_max - tel.cell_v_min > 0.03).sum())
    hits += int((tel.temps_c > 60.0).sum())
    if tel.cell_v is not None:
        n = tel.cell_v.shape[1]
        hits += int(np.partition(tel.cell_v, n // 2, axis=1)[:, n // 2].size)
    return hits


def run(quick: bool = False, seed: int = 20261122) -> dict[str, float]:
    n_packs = 100 if quick else 1000
    rng = np.random.default_rng(seed)
    specs = build_fleet_specs(n_packs, rng)
    t_gen = t_detect = t_ref = 0.0
    readings = alarms = 0
    for b in range(0, n_packs, BLOCK):
        t0 = time.perf_counter()
        result = synthesise(specs[b : b + BLOCK], 1.0, 1.0, [], rng)
        t_gen += time.perf_counter() - t0
        for tel in result.telemetry.values():
            t0 = time.perf_counter()
            _scan_once(tel)
            t1 = time.perf_counter()
            alarms += len(detect(tel))
            t2 = time.perf_counter()
            t_ref += t1 - t0
            t_detect += t2 - t1
            readings += len(tel)
        del result
    mr = readings / 1e6
    print(f"health: anomaly detection, {n_packs} packs x 1 day at 1 Hz ({mr:.1f} M readings)")
    print(
        f"  detection (all rules, batch per pack)   {t_detect:6.2f} s "
        f"{mr / t_detect:5.1f} M readings/s ({alarms} alarms on healthy packs)"
    )
    print(
        f"  reference: numpy scans each column once {t_ref:6.2f} s {mr / t_ref:5.1f} M readings/s"
    )
    print(f"  ratio detection / reference             {t_detect / t_ref:6.1f} x")
    print(f"  (generation, not timed above:           {t_gen:6.2f} s)")
    return {"detect_s": t_detect, "reference_s": t_ref, "generate_s": t_gen, "readings": readings}


if __name__ == "__main__":
    run()
