"""Calendar + cycle capacity-fade model of large-format LFP, fitted per pack, with a forecast of
when the pack reaches end of first life (80 % SoH) and an interval; `CalendarCycleAgeing` is the
twin's `domain.ageing.AgeingModel` backed by it.

    loss = k_cal * tau^z_cal + B * phi^z_cyc
    tau  = sum dt_days * A(T; Ea_cal) * (s0 + s1 * SoC)          (Arrhenius- and SoC-weighted time)
    phi  = sum dFEC * A(T; Ea_cyc) * (DoD / DoD_ref)^beta          (weighted full equivalent cycles)
    A(T; Ea) = exp(-Ea/R (1/T - 1/T_ref)),  T_ref = 25 °C

Forms: cycle term after Wang et al. 2011, J. Power Sources 196, "Cycle-life model for
graphite-LiFePO4 cells" (Q_loss = B exp(-Ea/RT) Ah^z, z = 0.55, Ea = 31.7 kJ/mol - 370.3 C-rate,
here with Ah normalised to full equivalent cycles of the cell); calendar term after Naumann et al.
2018, J. Energy Storage 17, and Naumann et al. 2020, J. Power Sources 451 (square-root-of-time
calendar fade of LFP/graphite, rising with SoC and temperature; DoD dependence of cycle fade).
Coefficients k_cal, B, the SoC and DoD factors and Ea_cal are [estimate]s, calibrated to 2-3 %/yr
calendar fade at 25 °C and mid SoC and about 12 % cycle fade after 6,000 cycles (domain facts 4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq, curve_fit

from openswap.domain.ageing import EOL_SOH
from openswap.health.lfp import arrhenius_factor

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class AgeingParams:
    """Parameters of the calendar + cycle model (symbols as in the module docstring)."""

    k_cal: float = 1.31e-3  # per day^z_cal [estimate: 2.5 % after a year at 25 °C, SoC 0.5]
    b_cyc: float = 1.0e-3  # per FEC^z_cyc [estimate: 12 % after 6,000 FEC at 25 °C, DoD 0.8]
    z_cal: float = 0.5  # Naumann et al. 2018
    z_cyc: float = 0.55  # Wang et al. 2011
    ea_cal_j_per_mol: float = 50_000.0  # [estimate]
    ea_cyc_j_per_mol: float = 31_500.0  # Wang et al. 2011 at about C/2
    soc_base: float = 0.6  # SoC factor s0 + s1 SoC, 1 at SoC 0.5 [estimate]
    soc_slope: float = 0.8
    dod_ref: float = 0.8
    dod_exponent: float = 0.5  # [estimate]

    def to_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True)
class UsageHistory:
    """A pack's use in consecutive intervals: length (days), full equivalent cycles, mean cell
    temperature, mean SoC and mean depth of discharge in each."""

    duration_days: FloatArray
    fec: FloatArray
    temp_c: FloatArray
    soc_mean: FloatArray
    dod: FloatArray

    @staticmethod
    def constant(
        days: float,
        fec_per_day: float,
        temp_c: float,
        soc_mean: float,
        dod: float,
        step_days: float,
    ) -> UsageHistory:
        n = max(1, round(days / step_days))
        one = np.ones(n)
        return UsageHistory(
            one * days / n, one * fec_per_day * days / n, one * temp_c, one * soc_mean, one * dod
        )

    @property
    def elapsed_days(self) -> FloatArray:
        return np.cumsum(self.duration_days)

    def weighted(self, p: AgeingParams) -> tuple[FloatArray, FloatArray]:
        """Cumulative weighted time tau and weighted throughput phi at each interval end."""
        cal = (
            self.duration_days
            * arrhenius_factor(self.temp_c, p.ea_cal_j_per_mol)
            * (p.soc_base + p.soc_slope * self.soc_mean)
        )
        cyc = (
            self.fec
            * arrhenius_factor(self.temp_c, p.ea_cyc_j_per_mol)
            * (np.maximum(self.dod, 1e-6) / p.dod_ref) ** p.dod_exponent
        )
        return np.cumsum(cal), np.cumsum(cyc)


def capacity_loss(p: AgeingParams, tau: FloatArray, phi: FloatArray) -> FloatArray:
    """Capacity loss (fraction of rated) at weighted time `tau` and throughput `phi`."""
    return np.asarray(p.k_cal * tau**p.z_cal + p.b_cyc * phi**p.z_cyc, dtype=np.float64)


def soh_curve(p: AgeingParams, history: UsageHistory) -> FloatArray:
    """Model SoH at each interval end of `history`, from a new pack."""
    tau, phi = history.weighted(p)
    return 1.0 - capacity_loss(p, tau, phi)


@dataclass(frozen=True, slots=True)
class EolForecast:
    """Days from the end of the history until SoH reaches `eol_soh`: median and interval."""

    eol_soh: float
    days_median: float
    days_low: float
    days_high: float
    level: float  # e.g. 0.9 for a 5-95 % interval

    def to_dict(self) -> dict[str, float]:
        return {
            "eol_soh": self.eol_soh,
            "days_median": self.days_median,
            "days_low": self.days_low,
            "days_high": self.days_high,
            "level": self.level,
        }


@dataclass(frozen=True, slots=True)
class AgeingFit:
    """A per-pack fit: parameters, covariance of the fitted ones (k_cal, B[, z_cyc])."""

    params: AgeingParams
    fitted: tuple[str, ...]
    covariance: FloatArray
    residual_sd: float
    n_points: int
    history: UsageHistory

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params.to_dict(),
            "fitted": list(self.fitted),
            "stderr": {
                k: float(math.sqrt(self.covariance[i, i])) for i, k in enumerate(self.fitted)
            },
            "residual_sd": self.residual_sd,
            "n_points": self.n_points,
        }

    def draws(self, rng: np.random.Generator, n: int) -> list[AgeingParams]:
        x0 = np.array([getattr(self.params, k) for k in self.fitted])
        xs = rng.multivariate_normal(x0, self.covariance, size=n, method="svd")
        xs = np.maximum(xs, 1e-9)
        return [
            replace(self.params, **dict(zip(self.fitted, row.tolist(), strict=True))) for row in xs
        ]

    def forecast_eol(
        self,
        fec_per_day: float,
        temp_c: float,
        soc_mean: float,
        dod: float,
        rng: np.random.Generator,
        *,
        eol_soh: float = EOL_SOH,
        n_draws: int = 400,
        horizon_days: float = 40 * 365.0,
        level: float = 0.9,
    ) -> EolForecast:
        """When SoH reaches `eol_soh` if the pack keeps the given use, propagating the fit's
        parameter uncertainty by Monte Carlo (`n_draws` from the fitted covariance)."""
        grid = np.arange(0.0, horizon_days + 1.0, 1.0)
        days = np.array(
            [
                self._days_to(p, grid, fec_per_day, temp_c, soc_mean, dod, eol_soh)
                for p in self.draws(rng, n_draws)
            ]
        )
        q = (1 - level) / 2
        beyond = horizon_days + 1.0  # "not within the horizon" sorts last
        lo, mid, hi = (
            math.inf if x >= beyond else float(x)
            for x in np.quantile(np.where(np.isfinite(days), days, beyond), [q, 0.5, 1 - q])
        )
        return EolForecast(eol_soh, mid, lo, hi, level)

    def _days_to(
        self,
        p: AgeingParams,
        grid: FloatArray,
        fec_per_day: float,
        temp_c: float,
        soc_mean: float,
        dod: float,
        eol_soh: float,
    ) -> float:
        tau0, phi0 = (float(x[-1]) for x in self.history.weighted(p))
        future = UsageHistory.constant(1.0, fec_per_day, temp_c, soc_mean, dod, 1.0)
        dtau, dphi = (float(x[-1]) for x in future.weighted(p))
        soh = 1.0 - capacity_loss(p, tau0 + dtau * grid, phi0 + dphi * grid)
        hit = np.flatnonzero(soh <= eol_soh)
        return float(grid[hit[0]]) if hit.size else math.inf


def fit_ageing(
    history: UsageHistory,
    soh_observed: FloatArray,
    soh_sigma: FloatArray | float,
    *,
    prior: AgeingParams | None = None,
    fit_exponent: bool = False,
) -> AgeingFit:
    """Fit k_cal and B (and z_cyc when `fit_exponent`; one pack's data rarely pin it down, so it
    stays at Wang et al.'s 0.55 by default) of one pack by weighted least squares
    (`scipy.optimize.curve_fit`), the other parameters held at `prior`.

    `soh_observed[j]` is an estimate at the end of interval j of `history` (NaN where none);
    `soh_sigma` its standard error. The covariance is scaled up by the reduced chi-square when
    the residuals exceed the stated errors."""
    p0 = prior or AgeingParams()
    y = np.asarray(soh_observed, dtype=np.float64)
    sig = np.broadcast_to(np.asarray(soh_sigma, dtype=np.float64), y.shape)
    use = np.flatnonzero(np.isfinite(y))
    names = ("k_cal", "b_cyc", "z_cyc") if fit_exponent else ("k_cal", "b_cyc")
    if use.size < len(names) + 1:
        raise ValueError(f"need at least {len(names) + 1} SoH observations, got {use.size}")

    def model(x: FloatArray, *theta: float) -> FloatArray:
        p = replace(p0, **dict(zip(names, theta, strict=True)))
        return soh_curve(p, history)[x.astype(np.intp)]

    start = [getattr(p0, k) for k in names]
    lower = [0.0, 0.0, 0.2][: len(names)]
    upper = [1.0, 1.0, 1.2][: len(names)]
    popt, pcov = curve_fit(
        model,
        use.astype(np.float64),
        y[use],
        p0=start,
        sigma=sig[use],
        absolute_sigma=True,
        bounds=(lower, upper),
        x_scale=np.maximum(np.abs(start), 1e-6),
    )
    resid = (y[use] - model(use.astype(np.float64), *popt)) / sig[use]
    dof = max(use.size - len(names), 1)
    chi2 = float((resid**2).sum() / dof)
    cov = np.asarray(pcov, dtype=np.float64) * max(chi2, 1.0)
    params = replace(p0, **dict(zip(names, popt.tolist(), strict=True)))
    rsd = float(np.std(y[use] - model(use.astype(np.float64), *popt)))
    return AgeingFit(params, names, cov, rsd, int(use.size), history)


@dataclass(frozen=True, slots=True)
class CalendarCycleAgeing:
    """`domain.ageing.AgeingModel` on the calendar + cycle model.

    The state is carried by SoH alone, so a step from `soh` assumes the pack reached `soh` along
    the same path it takes now (same ratio of cycles to days, same temperature), the usual
    equivalent-age treatment of power-law fade. With `reference_cycle_life` set, B is scaled so a
    pack rated for more cycles fades proportionally slower per cycle."""

    params: AgeingParams = AgeingParams()
    soc_mean: float = 0.6
    dod: float = 0.8
    reference_cycle_life: float | None = None

    def soh_after(
        self, soh: float, full_cycles: float, days: float, cycle_life: float, temp_c: float
    ) -> float:
        p = self.params
        if self.reference_cycle_life is not None and cycle_life > 0:
            p = replace(p, b_cyc=p.b_cyc * (self.reference_cycle_life / cycle_life) ** p.z_cyc)
        if full_cycles <= 0 and days <= 0:
            return soh
        step = UsageHistory(
            np.array([days]),
            np.array([full_cycles]),
            np.array([temp_c]),
            np.array([self.soc_mean]),
            np.array([self.dod]),
        )
        tau1, phi1 = (float(x[-1]) for x in step.weighted(p))

        def loss(s: float) -> float:
            return float(capacity_loss(p, np.array([s * tau1]), np.array([s * phi1]))[0])

        lost = max(1.0 - soh, 0.0)
        if lost == 0.0:
            s0 = 0.0
        else:
            hi = 1.0
            while loss(hi) < lost and hi < 1e9:
                hi *= 2.0
            s0 = float(brentq(lambda s: loss(s) - lost, 0.0, hi)) if loss(hi) >= lost else hi
        return max(1.0 - loss(s0 + 1.0), 0.0)
