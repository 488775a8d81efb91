"""Grid metering: charging pieces recorded on the hot path, spread over metering intervals later.

A charging piece is one pack, or a lot of identical packs on identical chargers, charging at one
constant power from (t0, soc0) to (t1, soc1). The hot path only appends its record;
`GridMeter.fold` spreads the grid energy of every recorded piece over the metering intervals in
one numpy pass, from the same CC-CV closed form as `openswap.sim.station.soc_after`.
Semantics: docs/design/simulator.md.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

PIECE_FIELDS = 9
"""Numbers per piece record: t0_s, t1_s, soc0, soc1, power_kw, limit_kw, efficiency,
capacity_kwh, packs. `power_kw` is the grid-side power of the constant part, min(setpoint,
limit), per pack; `packs` (>= 1) identical packs follow the same trajectory."""

# Writers fold when this many numbers are recorded: memory stays bounded, and the numpy
# temporaries of a fold this size stay in cache (65,536 pieces were about 20 % slower per piece).
FOLD_AT = PIECE_FIELDS * 8_192

FloatArray = npt.NDArray[np.float64]


def soc_after_array(
    soc0: FloatArray,
    dt_s: FloatArray,
    power_kw: FloatArray,
    limit_kw: FloatArray,
    efficiency: FloatArray,
    capacity_kwh: FloatArray,
    alpha: float,
    beta: float,
    end_fraction: float,
) -> FloatArray:
    """Element-wise SoC after charging `dt_s` (>= 0) from `soc0` (< 1) at `power_kw` (> 0)."""
    s_x = np.minimum((alpha - power_kw / limit_kw) / beta, 1.0)  # where the taper binds
    rate = efficiency * power_kw / (capacity_kwh * 3600.0)
    t_knee = np.maximum(s_x - soc0, 0.0) / rate
    u = (alpha - beta * np.maximum(soc0, s_x)) * np.exp(
        -efficiency * limit_kw * beta / (capacity_kwh * 3600.0) * np.maximum(dt_s - t_knee, 0.0)
    )
    tapered = np.where(u <= end_fraction, 1.0, (alpha - u) / beta)
    result: FloatArray = np.where(dt_s <= t_knee, soc0 + rate * dt_s, tapered)
    return result


class GridMeter:
    """Grid energy per metering interval of `interval_s` seconds (interval k starts at k x width).

    Append piece records (`PIECE_FIELDS` numbers each) to `pieces` (a plain list: extending it
    from a tuple is several times cheaper than an `array`); `kwh_by_interval` folds them first,
    so readers always see every recorded piece.
    """

    __slots__ = ("_alpha", "_beta", "_end", "_kwh", "interval_s", "pieces")

    def __init__(self, interval_s: float, alpha: float, beta: float, end_fraction: float) -> None:
        self.interval_s = interval_s
        self.pieces: list[float] = []
        self._alpha, self._beta, self._end = alpha, beta, end_fraction
        self._kwh: FloatArray = np.zeros(0)

    def fold(self) -> None:
        """Spread every recorded piece's grid energy over the intervals; clear the records."""
        if not self.pieces:
            return
        t0, t1, s0, s1, q, lim, eff, cap, packs = (
            np.fromiter(self.pieces, np.float64, len(self.pieces)).reshape(-1, PIECE_FIELDS).T
        )
        del self.pieces[:]
        width = self.interval_s
        k0 = np.floor_divide(t0, width).astype(np.int64)
        n_bounds = np.floor_divide(t1, width).astype(np.int64) - k0  # interval ends inside
        # Each piece covers intervals k0 .. k0 + n_bounds: one segment per interval, whose SoC
        # runs from the piece start or a boundary to the next boundary or the piece end.
        n_segments = n_bounds + 1
        first = np.cumsum(n_segments) - n_segments  # index of each piece's first segment
        total = int(n_segments.sum())
        piece = np.repeat(np.arange(t0.size), n_segments)
        offset = np.arange(total) - first[piece]
        start = np.empty(total)
        end = np.empty(total)
        start[first] = s0
        end[first + n_bounds] = s1
        at_bound = offset < n_bounds[piece]  # segments that end on an interval boundary
        bp = piece[at_bound]
        soc_b = soc_after_array(
            s0[bp],
            (k0[bp] + offset[at_bound] + 1) * width - t0[bp],
            q[bp],
            lim[bp],
            eff[bp],
            cap[bp],
            self._alpha,
            self._beta,
            self._end,
        )
        bounds = np.flatnonzero(at_bound)
        end[bounds] = soc_b
        start[bounds + 1] = soc_b
        interval = k0[piece] + offset
        kwh: FloatArray = np.asarray(
            np.bincount(interval, weights=(end - start) * (cap * packs / eff)[piece]),
            dtype=np.float64,
        )
        if kwh.size > self._kwh.size:
            kwh[: self._kwh.size] += self._kwh
            self._kwh = kwh
        else:
            self._kwh[: kwh.size] += kwh

    def kwh_by_interval(self, n_intervals: int) -> FloatArray:
        """Grid kWh of intervals 0 .. n_intervals - 1 (zero where nothing charged)."""
        self.fold()
        out = np.zeros(n_intervals)
        n = min(n_intervals, self._kwh.size)
        out[:n] = self._kwh[:n]
        return out
