"""The baseline ageing model: rated cycle life to end of life, plus calendar fade."""

from __future__ import annotations

import pytest

from openswap.domain.ageing import EOL_SOH, LinearAgeing, full_cycles


def test_rated_cycle_life_reaches_end_of_life() -> None:
    model = LinearAgeing(calendar_loss_per_year=0.0)
    assert model.soh_after(1.0, 10_000, 0.0, 10_000, 25.0) == pytest.approx(EOL_SOH)
    assert model.soh_after(1.0, 5_000, 0.0, 10_000, 25.0) == pytest.approx(0.9)


def test_calendar_fade_adds_per_year() -> None:
    model = LinearAgeing(calendar_loss_per_year=0.02)
    assert model.soh_after(1.0, 0.0, 365.0, 10_000, 25.0) == pytest.approx(0.98)
    assert model.soh_after(0.9, 1_000, 730.0, 10_000, 25.0) == pytest.approx(0.9 - 0.02 - 0.04)


def test_soh_never_goes_negative() -> None:
    assert LinearAgeing().soh_after(0.1, 1e9, 1e5, 1_000, 25.0) == 0.0


def test_full_cycles_count_charge_and_discharge() -> None:
    assert full_cycles(342.0, 171.0) == pytest.approx(1.0)
