"""Shared synthetic data for the health tests: generated once per session, seeded."""

from __future__ import annotations

import numpy as np
import pytest

from openswap.health.synth import (
    CoolingFailure,
    DriftingCell,
    Fault,
    InsulationDecline,
    SelfDischarge,
    StuckSensor,
    SynthResult,
    ThermalRunaway,
    build_fleet_specs,
    synthesise,
)

RUNAWAYS = (
    ThermalRunaway("F00000", 30_000.0, 37, rate_c_per_s=2.5),
    ThermalRunaway("F00001", 12_345.5, 100, rate_c_per_s=1.5),
    ThermalRunaway("F00002", 61_000.0, 5, rate_c_per_s=4.0),
    ThermalRunaway("F00003", 45_678.0, 160, rate_c_per_s=1.2),
    ThermalRunaway("F00004", 80_000.0, 84, rate_c_per_s=3.0),
)
OTHER_FAULTS: tuple[Fault, ...] = (
    DriftingCell("F00005", 10_000.0, 12, drift_v_per_h=0.004),
    StuckSensor("F00006", 5_000.0, 2),
    StuckSensor("F00007", 20_000.0, 6, value_c=25.0),
    CoolingFailure("F00008", 3_600.0),
    SelfDischarge("F00009", 0.0, leak_a=1.5),
    InsulationDecline("F00010", 20_000.0),
)


@pytest.fixture(scope="session")
def faulty_day() -> SynthResult:
    rng = np.random.default_rng(20261122)
    specs = build_fleet_specs(11, rng, prefix="F")
    return synthesise(specs, 1.0, 1.0, RUNAWAYS + OTHER_FAULTS, rng)


@pytest.fixture(scope="session")
def healthy_days() -> SynthResult:
    """60 healthy packs x 2 days at 1 Hz (the slow test runs thousands of pack-days)."""
    rng = np.random.default_rng(7)
    return synthesise(build_fleet_specs(60, rng, prefix="H"), 2.0, 1.0, [], rng)
