"""Large-format LFP cell behaviour shared by the generator and the estimators: the open-circuit
voltage curve with its flat plateau, and the temperature dependence of internal resistance.

Both are generic shapes [estimate], not one maker's data: the estimators only rely on the steep
ends of the curve (below about 20 % and above about 95 % SoC), where any LFP curve is informative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

GAS_CONSTANT_J_PER_MOL_K = 8.314462618  # CODATA 2018
KELVIN_OFFSET = 273.15
REFERENCE_TEMP_C = 25.0

# Rest OCV of a graphite/LiFePO4 cell against SoC: generic shape of published curves, hysteresis
# ignored (one branch) [estimate]. Between 30 % and 90 % SoC the curve moves about 55 mV.
_LFP_SOC = (0.0, 0.02, 0.05, 0.10, 0.15, 0.20, 0.30, 0.40, 0.50, 0.60, 0.70, 0.80, 0.90, 0.95)
_LFP_SOC_TOP = (0.98, 1.0)
_LFP_OCV_V = (2.50, 2.90, 3.10, 3.20, 3.23, 3.255, 3.280, 3.290, 3.295, 3.300, 3.315, 3.330)
_LFP_OCV_TOP_V = (3.335, 3.345, 3.40, 3.50)

# Activation energy of the cell's 1-second resistance [estimate: LFP ohmic plus charge-transfer
# resistance roughly doubles from 25 °C to 5 °C, which this value reproduces].
RESISTANCE_ACTIVATION_J_PER_MOL = 25_000.0


@dataclass(frozen=True, slots=True)
class OcvCurve:
    """A monotone rest-voltage curve of one cell: `soc` (0..1, increasing) to `ocv_v`."""

    soc: tuple[float, ...]
    ocv_v: tuple[float, ...]

    def voltage_v(self, soc: FloatArray | float) -> FloatArray:
        """Cell OCV in V at `soc` (clipped to 0..1)."""
        return np.asarray(np.interp(np.clip(soc, 0.0, 1.0), self.soc, self.ocv_v), dtype=np.float64)

    def soc_at(self, ocv_v: FloatArray | float) -> FloatArray:
        """Inverse: SoC at a rest cell voltage (clipped to the curve's range)."""
        return np.asarray(np.interp(ocv_v, self.ocv_v, self.soc), dtype=np.float64)

    def slope_v(self, soc: FloatArray | float) -> FloatArray:
        """dOCV/dSoC in V per unit SoC at `soc`: the local sensitivity of rest voltage."""
        s = np.asarray(self.soc)
        v = np.asarray(self.ocv_v)
        seg = np.diff(v) / np.diff(s)
        idx = np.clip(np.searchsorted(s, np.clip(soc, 0.0, 1.0), side="right") - 1, 0, len(seg) - 1)
        return np.asarray(seg[idx], dtype=np.float64)


LFP_OCV = OcvCurve(_LFP_SOC + _LFP_SOC_TOP, _LFP_OCV_V + _LFP_OCV_TOP_V)


def arrhenius_factor(
    temp_c: FloatArray | float, activation_j_per_mol: float, reference_c: float = REFERENCE_TEMP_C
) -> FloatArray:
    """exp(-Ea/R (1/T - 1/T_ref)): a rate at `temp_c` relative to the rate at `reference_c`."""
    t_k = np.asarray(temp_c, dtype=np.float64) + KELVIN_OFFSET
    t_ref = reference_c + KELVIN_OFFSET
    return np.asarray(
        np.exp(-activation_j_per_mol / GAS_CONSTANT_J_PER_MOL_K * (1.0 / t_k - 1.0 / t_ref)),
        dtype=np.float64,
    )


def resistance_factor(temp_c: FloatArray | float) -> FloatArray:
    """Cell resistance at `temp_c` relative to 25 °C (above 1 when colder)."""
    return 1.0 / arrhenius_factor(temp_c, RESISTANCE_ACTIVATION_J_PER_MOL)


def one_second_resistance_share(
    tau1_s: float, tau2_s: float, share0: float, share1: float
) -> float:
    """Fraction of the total (DC) resistance seen 1 s after a current step by a two-RC model
    whose ohmic, first and second RC parts carry `share0`, `share1` and the rest."""
    share2 = 1.0 - share0 - share1
    return share0 + share1 * (1 - math.exp(-1.0 / tau1_s)) + share2 * (1 - math.exp(-1.0 / tau2_s))
