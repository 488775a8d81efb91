"""Pack ageing: how state of health falls with energy throughput and time.

The digital twin counts each pack's throughput; an `AgeingModel` turns it into state of health.
`LinearAgeing` is the simple baseline (rated cycle life to end of life, plus calendar fade); the
pack-health engine can replace it with a fitted calendar + cycle model with Arrhenius temperature
dependence, through the same protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

DAYS_PER_YEAR = 365.0
EOL_SOH = 0.80  # end of first life (MDPI Batteries 2022, 8(10), 164; domain facts section 8)
# LFP stored at about 50 % SoC and 25 C loses about 2-3 %/yr (domain facts section 4 [weak], used
# for its order of magnitude only).
CALENDAR_LOSS_PER_YEAR = 0.02


class AgeingModel(Protocol):
    """State of health after a period of use."""

    def soh_after(
        self, soh: float, full_cycles: float, days: float, cycle_life: float, temp_c: float
    ) -> float:
        """SoH (0..1) of a pack at `soh` after `full_cycles` equivalent full cycles over `days`
        at a mean cell temperature of `temp_c`; `cycle_life` is its rated cycles to end of life."""
        ...


@dataclass(frozen=True, slots=True)
class LinearAgeing:
    """Capacity falls linearly from 1 to `eol_soh` over the rated cycle life, plus a constant
    calendar loss per year. Temperature is ignored: a baseline, not a fitted model."""

    eol_soh: float = EOL_SOH
    calendar_loss_per_year: float = CALENDAR_LOSS_PER_YEAR

    def soh_after(
        self, soh: float, full_cycles: float, days: float, cycle_life: float, temp_c: float
    ) -> float:
        cycle_loss = (1.0 - self.eol_soh) * full_cycles / cycle_life
        calendar_loss = self.calendar_loss_per_year * days / DAYS_PER_YEAR
        return max(soh - cycle_loss - calendar_loss, 0.0)


def full_cycles(throughput_kwh: float, capacity_kwh: float) -> float:
    """Equivalent full cycles of a pack that charged and discharged `throughput_kwh` in total
    (charge plus discharge) with usable energy `capacity_kwh`."""
    return throughput_kwh / (2.0 * capacity_kwh)
