from __future__ import annotations

import numpy as np

from openswap.domain.ageing import AgeingModel
from openswap.health.ageing import (
    AgeingFit,
    AgeingParams,
    CalendarCycleAgeing,
    UsageHistory,
    fit_ageing,
    soh_curve,
)

TRUE = AgeingParams(k_cal=1.6e-3, b_cyc=0.8e-3)


def _history(rng: np.random.Generator, months: int = 36) -> UsageHistory:
    """Monthly use with seasons and idle months (idle months separate calendar from cycling)."""
    temp = 22 + 10 * np.sin(2 * np.pi * np.arange(months) / 12)
    fec = np.where(rng.random(months) < 0.3, 2.0, 45.0)
    return UsageHistory(
        np.full(months, 30.0), fec, temp, np.full(months, 0.6), np.full(months, 0.75)
    )


def _true_days_to_eol(history: UsageHistory) -> float:
    fit = AgeingFit(TRUE, ("k_cal",), np.zeros((1, 1)), 0.0, 0, history)
    return fit._days_to(TRUE, np.arange(0.0, 20_000.0), 1.5, 22.0, 0.6, 0.75, 0.8)


def test_fit_recovers_known_parameters() -> None:
    rng = np.random.default_rng(1)
    history = _history(rng)
    observed = soh_curve(TRUE, history) + rng.normal(0, 0.0005, 36)
    fit = fit_ageing(history, observed, 0.0005)
    stderr = fit.to_dict()["stderr"]
    # calendar and cycle terms trade off on one pack's data: judge by the fit's own errors
    for name in ("k_cal", "b_cyc"):
        est, true = getattr(fit.params, name), getattr(TRUE, name)
        assert abs(est - true) < 3 * stderr[name], name
        assert abs(est / true - 1) < 0.25, name
        assert stderr[name] < 0.25 * true, name
    free = fit_ageing(history, soh_curve(TRUE, history), 1e-5, fit_exponent=True)
    assert abs(free.params.z_cyc - TRUE.z_cyc) < 0.02


def test_eol_forecast_interval_covers_the_truth() -> None:
    rng = np.random.default_rng(2)
    hits, reps = 0, 20
    for _ in range(reps):
        history = _history(rng)
        observed = soh_curve(TRUE, history) + rng.normal(0, 0.002, 36)
        fit = fit_ageing(history, observed, 0.002)
        fc = fit.forecast_eol(1.5, 22.0, 0.6, 0.75, rng, n_draws=200)
        assert fc.days_low <= fc.days_median <= fc.days_high
        hits += fc.days_low <= _true_days_to_eol(history) <= fc.days_high
    assert hits >= 0.8 * reps  # a 90 % interval


def test_the_twin_can_use_it_as_its_ageing_model() -> None:
    model: AgeingModel = CalendarCycleAgeing(reference_cycle_life=6000)
    year = model.soh_after(1.0, 550.0, 365.0, 6000, 25.0)
    assert 0.9 < year < 0.98
    assert model.soh_after(1.0, 550.0, 365.0, 6000, 35.0) < year  # hotter ages faster
    assert model.soh_after(1.0, 550.0, 365.0, 12000, 25.0) > year  # longer rated life
    # Two half-years from the equivalent state equal one year (same path).
    half = model.soh_after(1.0, 275.0, 182.5, 6000, 25.0)
    assert abs(model.soh_after(half, 275.0, 182.5, 6000, 25.0) - year) < 1e-9
    assert model.soh_after(0.9, 0.0, 0.0, 6000, 25.0) == 0.9
