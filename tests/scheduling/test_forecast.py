"""Demand forecast: shapes and intervals, the seasonal-naive reference, and held-out twin days."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from openswap.domain.errors import InputError
from openswap.scheduling.forecast import (
    ArrivalHistory,
    ArrivalRecord,
    evaluate_forecast,
    forecast_arrivals,
    seasonal_naive,
    window_peak,
)
from openswap.services.planning import arrival_history, run_history
from openswap.services.simulation import ScenarioSource

PROFILE = [0.5 + 4.0 * math.exp(-0.5 * ((h - 8) / 2.0) ** 2) for h in range(24)]


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: fine for the small rates used here.
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def synthetic(days: int, seed: int = 1) -> ArrivalHistory:
    """Poisson arrivals at one station with a morning peak, uniform within each hour."""
    rng = random.Random(seed)
    records = []
    for hour in range(days * 24):
        for _ in range(_poisson(rng, PROFILE[hour % 24])):
            records.append(ArrivalRecord((hour + rng.random()) * 3600.0, "s1", "m1", 3))
    return ArrivalHistory(tuple(records), 0.0, days * 86_400.0, (("s1", "m1"), ("s1", "m2")))


def test_history_counts_whole_hours_only() -> None:
    h = ArrivalHistory(
        (
            ArrivalRecord(1800.0, "a", "m"),  # in a partial first hour: dropped
            ArrivalRecord(3700.0, "a", "m"),
            ArrivalRecord(3800.0, "a", "m"),
            ArrivalRecord(7300.0, "a", "m"),
        ),
        start_s=1000.0,
        end_s=3 * 3600.0 + 10.0,
    )
    keys, y = h.counts()
    assert keys == (("a", "m"),)
    assert h.first_hour == 1
    assert h.end_hour == 3
    assert y.tolist() == [[2.0, 1.0]]


def test_forecast_learns_the_profile_and_brackets_it() -> None:
    f = forecast_arrivals(synthetic(14), 24)
    row = f.row("s1", "m1")
    assert f.first_hour == 14 * 24
    assert f.hours == 24
    assert np.all(f.lower <= f.mean + 1e-9)
    assert np.all(f.mean <= f.upper + 1e-9)
    assert np.all(f.lower >= 0)
    err = np.abs(f.mean[row] - np.array(PROFILE))
    assert err.mean() < 0.5  # 14 samples per hour: the rate is learned to within noise
    assert int(np.argmax(f.mean[row])) in (7, 8, 9)
    # A model nobody asked for is forecast as (almost) nothing.
    assert f.mean[f.row("s1", "m2")].max() < 0.05
    assert f.packs_per_arrival[("s1", "m1")] == 3.0


def test_seasonal_naive_repeats_the_last_day() -> None:
    h = synthetic(3)
    _, y = h.counts()
    f = seasonal_naive(h, 30)
    assert f.mean[0, :24].tolist() == y[0, -24:].tolist()
    assert f.mean[0, 24:].tolist() == y[0, -24:-18].tolist()


def test_model_beats_seasonal_naive_on_synthetic_holdout() -> None:
    ev = evaluate_forecast(synthetic(10, seed=7), 3)
    model, naive = ev.score("poisson-glm"), ev.score("seasonal-naive-24h")
    assert model.mae < naive.mae
    assert model.rmse < naive.rmse
    assert 0.75 <= model.coverage <= 1.0


def test_model_beats_seasonal_naive_on_twin_days() -> None:
    """The acceptance check: held-out twin days, 1 replication of the default scenario."""
    _, result = run_history(ScenarioSource("ningde-xiamen"), 9)
    history = arrival_history(result)
    assert len(history.records) > 2000
    for holdout in (1, 2):
        ev = evaluate_forecast(history, holdout)
        model, naive = ev.score("poisson-glm"), ev.score("seasonal-naive-24h")
        assert model.mae < naive.mae, ev
        assert model.rmse < naive.rmse, ev
        assert model.coverage > 0.7


def test_short_history_and_bad_interval_are_refused() -> None:
    with pytest.raises(InputError, match="48 whole hours"):
        forecast_arrivals(synthetic(1), 24)
    with pytest.raises(InputError, match="interval"):
        forecast_arrivals(synthetic(3), 24, interval=1.5)
    with pytest.raises(InputError, match="holdout_days"):
        evaluate_forecast(synthetic(3), 0)


def test_window_peak() -> None:
    assert window_peak([1, 5, 2, 7, 0], 2) == 9
    assert window_peak([1, 2], 5) == 3
    assert window_peak([], 3) == 0.0
