"""Swap-demand forecasts: arrivals per station, hour and pack model, learned from history.

One Poisson regression (scikit-learn) per (station, pack model) series on an hour-of-day profile,
a day-of-week profile (once the history covers two weeks) and the recent level; prediction
intervals from the empirical quantiles of the training Pearson residuals.
`seasonal_naive` is the reference forecast and `evaluate_forecast` scores both on held-out days.
Time is simulation time: seconds since scenario start, which is local midnight of day 0.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import PoissonRegressor

from openswap.domain.errors import InputError, Problem

SECONDS_PER_HOUR = 3600.0
HOURS_PER_DAY = 24
DAYS_PER_WEEK = 7
WEEKDAY_MIN_DAYS = 14  # a weekday profile needs at least two of each weekday to be estimated
LEVEL_LAG_H = 24  # the level window ends this long before the target hour (day-ahead exact)

Series = tuple[str, str]  # (station id, pack model id)
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ArrivalRecord:
    """One truck arrival that wanted a swap: when, where, and which pack model it carries."""

    time_s: float  # seconds since scenario start
    station: str
    pack_model: str
    packs: int = 1  # packs the truck swaps (or would have swapped)


@dataclass(frozen=True, slots=True)
class ArrivalHistory:
    """Arrivals observed over the window [start_s, end_s); only whole hours inside it count.

    `series` lists (station, pack model) pairs to forecast even if they saw no arrival;
    pairs seen in `records` are added. `start_weekday` is the weekday of day 0 (0 = Monday).
    """

    records: tuple[ArrivalRecord, ...]
    start_s: float
    end_s: float
    series: tuple[Series, ...] = ()
    start_weekday: int = 0

    @property
    def first_hour(self) -> int:
        """Index (hours since scenario start) of the first whole observed hour."""
        return math.ceil(self.start_s / SECONDS_PER_HOUR - 1e-9)

    @property
    def end_hour(self) -> int:
        """Index one past the last whole observed hour."""
        return math.floor(self.end_s / SECONDS_PER_HOUR + 1e-9)

    def all_series(self) -> tuple[Series, ...]:
        seen = dict.fromkeys(self.series)
        for r in self.records:
            seen.setdefault((r.station, r.pack_model))
        return tuple(sorted(seen))

    def counts(self) -> tuple[tuple[Series, ...], FloatArray]:
        """Arrivals per series (rows) and whole observed hour (columns from `first_hour`)."""
        keys = self.all_series()
        index = {k: i for i, k in enumerate(keys)}
        first, end = self.first_hour, self.end_hour
        out = np.zeros((len(keys), max(end - first, 0)))
        for r in self.records:
            h = math.floor(r.time_s / SECONDS_PER_HOUR) - first
            if 0 <= h < out.shape[1]:
                out[index[(r.station, r.pack_model)], h] += 1.0
        return keys, out

    def packs_per_arrival(self) -> dict[Series, float]:
        """Mean packs per arrival of each series (1.0 for a series never seen)."""
        total: dict[Series, list[int]] = {}
        for r in self.records:
            total.setdefault((r.station, r.pack_model), []).append(r.packs)
        return {k: (float(np.mean(total[k])) if k in total else 1.0) for k in self.all_series()}

    def before(self, split_s: float) -> ArrivalHistory:
        """The history up to `split_s` (training part of a held-out evaluation)."""
        return ArrivalHistory(
            tuple(r for r in self.records if r.time_s < split_s),
            self.start_s,
            split_s,
            self.all_series(),
            self.start_weekday,
        )


@dataclass(frozen=True, slots=True)
class ArrivalForecast:
    """Expected arrivals per series and hour from `first_hour`, with a central interval.

    Arrays are shaped (series, hours); `lower`/`upper` bound the central `interval` share of
    the predictive distribution of each hour's count.
    """

    series: tuple[Series, ...]
    first_hour: int
    mean: FloatArray
    lower: FloatArray
    upper: FloatArray
    interval: float
    packs_per_arrival: dict[Series, float] = field(default_factory=dict)
    method: str = "poisson-glm"

    @property
    def hours(self) -> int:
        return int(self.mean.shape[1])

    def row(self, station: str, pack_model: str) -> int:
        return self.series.index((station, pack_model))


def _weekday(start_weekday: int, hour: int) -> int:
    return (start_weekday + hour // HOURS_PER_DAY) % DAYS_PER_WEEK


def _features(
    hours: Sequence[int], level: Sequence[float], start_weekday: int, weekdays: bool
) -> FloatArray:
    """Design matrix: hour-of-day one-hot, weekday one-hot (optional), log relative level."""
    width = HOURS_PER_DAY + (DAYS_PER_WEEK if weekdays else 0) + 1
    x = np.zeros((len(hours), width))
    for r, (h, lv) in enumerate(zip(hours, level, strict=True)):
        x[r, h % HOURS_PER_DAY] = 1.0
        if weekdays:
            x[r, HOURS_PER_DAY + _weekday(start_weekday, h)] = 1.0
        x[r, -1] = lv
    return x


def _relative_level(window_sum: float, mean_day: float) -> float:
    return math.log((window_sum + 1.0) / (mean_day + 1.0))


def _interval(
    mean: FloatArray, residuals: FloatArray, interval: float
) -> tuple[FloatArray, FloatArray]:
    """Central predictive interval: the training Pearson residuals' empirical quantiles, scaled
    back by sqrt(mean). Calibrated for over- and under-dispersed counts alike (timetabled fleets
    arrive more regularly than Poisson); never below zero."""
    lo_q, hi_q = np.quantile(residuals, [(1.0 - interval) / 2.0, (1.0 + interval) / 2.0])
    root = np.sqrt(np.maximum(mean, 0.0))
    return np.maximum(mean + lo_q * root, 0.0), mean + hi_q * root


def _check_history(history: ArrivalHistory, min_hours: int, what: str) -> None:
    span = history.end_hour - history.first_hour
    if span < min_hours:
        raise InputError(
            [
                Problem(
                    f"{what} needs at least {min_hours} whole hours of history, "
                    f"got {max(span, 0)} (from {history.start_s:g} s to {history.end_s:g} s)",
                    field="history",
                )
            ]
        )


def forecast_arrivals(
    history: ArrivalHistory,
    hours: int,
    *,
    interval: float = 0.9,
    alpha: float = 1e-3,
) -> ArrivalForecast:
    """Forecast arrivals for the `hours` whole hours after the history ends.

    Per series, a Poisson GLM (log link, L2 penalty `alpha`) on hour of day, day of week (from
    14 days of history) and the log relative level of the 24 h ending a day before the target
    hour (exact for day-ahead; further out, the last observed 24 h stand in; in the first two
    history days, the mean level). Needs 2 days of history. `interval` is the central share
    covered by `lower`..`upper` (0 < interval < 1).
    """
    _check_history(history, 2 * HOURS_PER_DAY, "forecast_arrivals")
    if not 0.0 < interval < 1.0:
        raise InputError([Problem(f"interval={interval:g} must lie in (0, 1)", field="interval")])
    keys, y = history.counts()
    first = history.first_hour
    n_obs = y.shape[1]
    weekdays = n_obs >= WEEKDAY_MIN_DAYS * HOURS_PER_DAY
    target = list(range(history.end_hour, history.end_hour + hours))
    mean = np.zeros((len(keys), hours))
    lower = np.zeros_like(mean)
    upper = np.zeros_like(mean)
    lag = LEVEL_LAG_H
    for s in range(len(keys)):
        counts = y[s]
        if not counts.any():
            continue  # never seen: forecast zero, with a zero-width interval
        cum = np.concatenate(([0.0], np.cumsum(counts)))
        mean_day = float(counts.mean()) * HOURS_PER_DAY
        # The level window [h - lag - 24, h - lag) of the first two days is not observed: those
        # rows get level 0 (the history's mean), so short histories still train on every hour.
        rows = list(range(n_obs))
        lv = [
            _relative_level(cum[r - lag] - cum[r - lag - HOURS_PER_DAY], mean_day)
            if r >= lag + HOURS_PER_DAY
            else 0.0
            for r in rows
        ]
        x = _features([first + r for r in rows], lv, history.start_weekday, weekdays)
        regressor = PoissonRegressor(alpha=alpha, solver="newton-cholesky", max_iter=100)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            regressor.fit(x, counts[rows])
        fitted = regressor.predict(x)
        residuals = (counts[rows] - fitted) / np.sqrt(np.maximum(fitted, 1e-9))
        last_day = cum[n_obs] - cum[n_obs - HOURS_PER_DAY]
        future_lv = []
        for h in target:
            end = h - first - lag  # level window end, as an observed-hour offset
            window = cum[end] - cum[end - HOURS_PER_DAY] if end <= n_obs else last_day
            future_lv.append(_relative_level(window, mean_day))
        xf = _features(target, future_lv, history.start_weekday, weekdays)
        mean[s] = regressor.predict(xf)
        lower[s], upper[s] = _interval(mean[s], residuals, interval)
    return ArrivalForecast(
        keys, history.end_hour, mean, lower, upper, interval, history.packs_per_arrival()
    )


def seasonal_naive(history: ArrivalHistory, hours: int, *, season_h: int = 24) -> ArrivalForecast:
    """The reference forecast: each hour repeats the same hour one season (default a day)
    earlier, the last observed season repeated over longer horizons. No interval (lower =
    upper = mean)."""
    _check_history(history, season_h, "seasonal_naive")
    keys, y = history.counts()
    n_obs = y.shape[1]
    idx = [n_obs - season_h + (k % season_h) for k in range(hours)]
    mean = y[:, idx] if keys else np.zeros((0, hours))
    return ArrivalForecast(
        keys,
        history.end_hour,
        mean,
        mean.copy(),
        mean.copy(),
        0.0,
        history.packs_per_arrival(),
        f"seasonal-naive-{season_h}h",
    )


@dataclass(frozen=True, slots=True)
class ForecastScore:
    """Errors of one method over every held-out (series, hour) cell, in arrivals per hour."""

    method: str
    mae: float
    rmse: float
    coverage: float  # share of held-out counts inside the interval (NaN without one)


@dataclass(frozen=True, slots=True)
class ForecastEvaluation:
    """The model against the seasonal-naive baselines on the last `holdout_days` days."""

    holdout_days: int
    train_hours: int
    cells: int  # series x held-out hours
    mean_count: float  # mean held-out arrivals per series and hour
    scores: tuple[ForecastScore, ...]  # model first, then the baselines

    def score(self, method: str) -> ForecastScore:
        for s in self.scores:
            if s.method == method:
                return s
        raise KeyError(method)


def _score(method: str, forecast: ArrivalForecast, actual: FloatArray) -> ForecastScore:
    err = forecast.mean - actual
    if forecast.interval > 0:
        inside = (actual >= forecast.lower) & (actual <= forecast.upper)
        coverage = float(inside.mean())
    else:
        coverage = math.nan
    return ForecastScore(
        method, float(np.abs(err).mean()), float(np.sqrt((err**2).mean())), coverage
    )


def evaluate_forecast(
    history: ArrivalHistory, holdout_days: int, *, interval: float = 0.9
) -> ForecastEvaluation:
    """Fit on all but the last `holdout_days` whole days of `history`, forecast those days from
    one origin, and score the model, the same-hour-yesterday forecast and, when the training
    part covers a week, the same-hour-last-week forecast (MAE, RMSE, interval coverage)."""
    if holdout_days < 1:
        raise InputError([Problem("holdout_days must be at least 1", field="holdout_days")])
    hours = holdout_days * HOURS_PER_DAY
    split_hour = history.end_hour - hours
    train = history.before(split_hour * SECONDS_PER_HOUR)
    _check_history(train, 2 * HOURS_PER_DAY, "evaluate_forecast (training part)")
    keys, y = history.counts()
    actual = y[:, split_hour - history.first_hour :]
    methods: list[ArrivalForecast] = [
        forecast_arrivals(train, hours, interval=interval),
        seasonal_naive(train, hours, season_h=HOURS_PER_DAY),
    ]
    if train.end_hour - train.first_hour >= DAYS_PER_WEEK * HOURS_PER_DAY:
        methods.append(seasonal_naive(train, hours, season_h=DAYS_PER_WEEK * HOURS_PER_DAY))
    for f in methods:
        if f.series != keys:  # a series first seen in the held-out days
            raise InputError(
                [Problem("held-out days contain a series unseen in training", field="history")]
            )
    return ForecastEvaluation(
        holdout_days,
        train.end_hour - train.first_hour,
        int(actual.size),
        float(actual.mean()) if actual.size else 0.0,
        tuple(_score(f.method, f, actual) for f in methods),
    )


def window_peak(values: Iterable[float], width_h: int) -> float:
    """The largest sum of `width_h` consecutive values (the busiest window of a forecast)."""
    seq = list(values)
    if not seq:
        return 0.0
    width = max(1, min(width_h, len(seq)))
    best = current = sum(seq[:width])
    for k in range(width, len(seq)):
        current += seq[k] - seq[k - width]
        best = max(best, current)
    return best
