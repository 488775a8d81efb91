"""CompatibilityPolicy: safety limits can be tightened, never loosened, never overridden."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from openswap.domain.compatibility import (
    DEFAULT_POLICY,
    INSULATION_FLOOR_OHM_PER_V,
    SOH_FLOOR,
    TEMP_SPREAD_CEILING_C,
    CompatibilityPolicy,
    build_rules,
    check,
)
from openswap.domain.errors import OpenswapError, SafetyPolicyError
from tests.domain.specimens import BASE


def test_defaults_sit_at_or_inside_the_floors() -> None:
    assert DEFAULT_POLICY.min_insulation_ohm_per_v == INSULATION_FLOOR_OHM_PER_V == 100.0
    assert DEFAULT_POLICY.min_soh == 0.80 >= SOH_FLOOR == 0.70
    assert DEFAULT_POLICY.max_cell_temp_spread_c == 5.0 <= TEMP_SPREAD_CEILING_C == 8.0


LOOSER = [
    ("min_insulation_ohm_per_v", 99.9, "GB 18384-2020 floor"),
    ("min_insulation_ohm_per_v", 0.0, "floor of 100 ohm/V"),
    ("min_insulation_ohm_per_v", math.nan, "below the"),
    ("min_soh", 0.69, "[0.7, 1]"),
    ("min_soh", math.nextafter(SOH_FLOOR, 0.0), "never loosened"),
    ("min_soh", 1.01, "[0.7, 1]"),
    ("min_soh", math.nan, "[0.7, 1]"),
    ("max_cell_temp_spread_c", 8.01, "(0, 8] C"),
    ("max_cell_temp_spread_c", math.inf, "never loosened"),
    ("max_cell_temp_spread_c", 0.0, "(0, 8] C"),
    ("max_cell_temp_spread_c", math.nan, "(0, 8] C"),
    ("hv_margin_frac", -0.01, "[0, 0.5)"),
    ("energy_reserve_frac", -0.1, "[0, 1)"),
    ("max_recharge_h", 0.0, "must be positive"),
    ("max_recharge_h", math.nan, "must be positive"),
]


@pytest.mark.parametrize(("name", "value", "message"), LOOSER, ids=lambda v: str(v))
def test_loosening_a_limit_is_refused(name: str, value: float, message: str) -> None:
    kwargs: dict[str, Any] = {name: value}
    with pytest.raises(SafetyPolicyError) as info:
        CompatibilityPolicy(**kwargs)
    assert message in str(info.value)
    assert isinstance(info.value, OpenswapError)


@pytest.mark.parametrize(("name", "value", "_"), LOOSER, ids=lambda v: str(v))
def test_replace_cannot_loosen_either(name: str, value: float, _: str) -> None:
    kwargs: dict[str, Any] = {name: value}
    with pytest.raises(SafetyPolicyError):
        dataclasses.replace(DEFAULT_POLICY, **kwargs)


def test_exactly_at_the_floors_is_accepted() -> None:
    policy = CompatibilityPolicy(
        min_insulation_ohm_per_v=INSULATION_FLOOR_OHM_PER_V,
        min_soh=SOH_FLOOR,
        max_cell_temp_spread_c=TEMP_SPREAD_CEILING_C,
    )
    rules = build_rules(policy)
    # A pack exactly at all three floors passes them under this policy.
    setup = dataclasses.replace(
        BASE,
        soh=SOH_FLOOR,
        max_cell_temp_spread_c=TEMP_SPREAD_CEILING_C,
        insulation_resistance_ohm=INSULATION_FLOOR_OHM_PER_V * 730.0,
    )
    verdict = check(setup.vehicle(), setup.pack(), setup.station(), None, rules)
    assert verdict.compatible, verdict.summary()


def test_a_policy_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_POLICY.min_soh = 0.5  # type: ignore[misc]


def test_there_is_no_override_switch() -> None:
    fields = {f.name for f in dataclasses.fields(CompatibilityPolicy)}
    assert fields == {
        "min_insulation_ohm_per_v",
        "min_soh",
        "max_cell_temp_spread_c",
        "hv_margin_frac",
        "energy_reserve_frac",
        "max_recharge_h",
    }
    with pytest.raises(TypeError):
        CompatibilityPolicy(override=True)  # type: ignore[call-arg]


def test_stricter_policy_is_applied_by_check() -> None:
    strict = build_rules(CompatibilityPolicy(min_soh=0.96, max_cell_temp_spread_c=1.5))
    setup = BASE  # SoH 0.95, spread 2.0 C: fine under the defaults
    assert setup.verdict().compatible
    verdict = check(setup.vehicle(), setup.pack(), setup.station(), None, strict)
    assert [r.rule for r in verdict.failed] == ["soh_floor", "temp_spread"]
