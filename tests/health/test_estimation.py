from __future__ import annotations

import numpy as np
import pytest

from openswap.health.estimation import estimate_capacity, estimate_resistance
from openswap.health.lfp import LFP_OCV
from openswap.health.synth import CapacityFade, ResistanceGrowth, build_fleet_specs, synthesise


@pytest.fixture(scope="module")
def three_days() -> object:
    rng = np.random.default_rng(3)
    specs = build_fleet_specs(16, rng, prefix="E")
    faults = [CapacityFade("E00001", 0.0, 0.01), ResistanceGrowth("E00002", 0.0, 0.05)]
    return synthesise(specs, 3.0, 1.0, faults, rng)


def test_capacity_soh_error_below_two_points(three_days: object) -> None:
    errors, covered = [], 0
    for serial, tel in three_days.telemetry.items():  # type: ignore[attr-defined]
        truth = three_days.truth[serial]  # type: ignore[attr-defined]
        est = estimate_capacity(tel, truth.spec.capacity_ah, truth.spec.n_series)
        assert est.usable, serial
        true_soh = float(truth.soh_at(np.array([s.time_s for s in est.samples])).mean())
        errors.append(abs(est.soh - true_soh))
        covered += est.soh_low <= true_soh <= est.soh_high
    assert max(errors) < 0.02
    assert covered >= 0.85 * len(errors)


def test_resistance_soh_with_interval(three_days: object) -> None:
    errors, covered = [], 0
    for serial, tel in three_days.telemetry.items():  # type: ignore[attr-defined]
        truth = three_days.truth[serial]  # type: ignore[attr-defined]
        r_new = truth.spec.r_pack_1s_new_ohm
        est = estimate_resistance(tel, truth.spec.capacity_ah, r_new)
        true_soh = r_new / truth.r_pack_1s_mean_ohm
        errors.append(abs(est.soh - true_soh))
        covered += est.soh_low <= true_soh <= est.soh_high
        assert est.n_steps > 100
    assert max(errors) < 0.03
    assert covered >= 0.85 * len(errors)


def test_plateau_rests_are_not_used_as_anchors() -> None:
    # 2 mV of voltage uncertainty is 4 % SoC at mid-plateau but 0.3 % at 10 %.
    assert 0.002 / float(LFP_OCV.slope_v(0.5)) > 0.03
    assert 0.002 / float(LFP_OCV.slope_v(0.1)) < 0.01
