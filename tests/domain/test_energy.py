"""Truck energy model against the published band and the worked values of domain facts 2.2."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openswap.domain.energy import (
    EMPTY_COMBINATION_MASS_KG,
    MAX_GROSS_COMBINATION_MASS_KG,
    STANDARD_GRAVITY_M_PER_S2,
    SUMMER_AC_PENALTY_FRAC,
    EnergyModelParams,
    Segment,
    build_coastal_rolling_profile,
    build_summer_params,
    combination_mass_kg,
    corridor_energy,
    net_elevation_change_m,
    segment_energy_kwh,
    segment_flows,
    to_opposite_direction,
)
from openswap.domain.errors import InputError

LOADED_KG = MAX_GROSS_COMBINATION_MASS_KG
DEFAULTS = EnergyModelParams()


def flat_kwh_per_km(
    mass_kg: float, speed_kmh: float, params: EnergyModelParams = DEFAULTS
) -> float:
    return segment_energy_kwh(params, mass_kg, Segment(10.0, 0.0, speed_kmh)) / 10.0


def test_loaded_80_kmh_flat_is_in_published_band_and_near_worked_value() -> None:
    value = flat_kwh_per_km(LOADED_KG, 80.0)
    assert 1.1 <= value <= 1.7  # anchors of domain facts 2.1
    assert value == pytest.approx(1.43, rel=0.05)


def test_loaded_90_kmh_flat_near_worked_value() -> None:
    assert flat_kwh_per_km(LOADED_KG, 90.0) == pytest.approx(1.55, rel=0.05)


def test_empty_80_kmh_flat_near_worked_value() -> None:
    assert flat_kwh_per_km(EMPTY_COMBINATION_MASS_KG, 80.0) == pytest.approx(0.90, rel=0.05)


def test_flat_value_matches_hand_computation() -> None:
    # 49 t, 80 km/h: rolling 49000*9.80665*0.0055 N, air 0.5*1.2*5.8*(80/3.6)^2 N,
    # /0.88 drive efficiency, plus 4 kW over 1/80 h per km.
    v = 80.0 / 3.6
    force_n = 49_000 * 9.80665 * 0.0055 + 0.5 * 1.2 * 5.8 * v * v
    expected = force_n * 1000.0 / 0.88 / 3.6e6 + 4.0 / 80.0
    assert flat_kwh_per_km(LOADED_KG, 80.0) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(1.4267, abs=1e-4)


def test_one_percent_grade_adds_about_1_5_kwh_per_km_at_49_t() -> None:
    extra = segment_energy_kwh(DEFAULTS, LOADED_KG, Segment(1.0, 0.01, 80.0)) - flat_kwh_per_km(
        LOADED_KG, 80.0
    )
    assert extra == pytest.approx(1.5, rel=0.05)


def test_descent_returns_regen_share_of_potential_energy() -> None:
    # Without rolling, air and auxiliary losses, the whole descent is surplus wheel energy:
    # the battery gets back regen_share (60 %) of the potential energy m g h.
    lossless = EnergyModelParams(rolling_resistance_coeff=0.0, drag_area_m2=0.0, aux_power_kw=0.0)
    climb = Segment(2.0, 0.02, 80.0)
    descent = Segment(2.0, -0.02, 80.0)
    potential_kwh = LOADED_KG * STANDARD_GRAVITY_M_PER_S2 * 40.0 / 3.6e6
    climb_kwh = segment_energy_kwh(lossless, LOADED_KG, climb)
    back = segment_flows(lossless, LOADED_KG, descent)
    assert climb_kwh == pytest.approx(potential_kwh / 0.88)
    assert back.regenerated_kwh == pytest.approx(0.60 * potential_kwh)
    assert back.drawn_kwh == 0.0
    # Seen from the battery: 0.60 x 0.88 = 53 % of what the climb took comes back.
    assert back.regenerated_kwh / climb_kwh == pytest.approx(0.60 * 0.88)


def test_steep_descent_marginal_regen_with_full_model() -> None:
    # Once gravity exceeds the resistances, each extra 1 % of descent grade returns
    # 0.60 x m g x 0.01 per metre: about 0.80 kWh/km at 49 t, against 1.52 kWh/km to climb it.
    steeper = segment_flows(DEFAULTS, LOADED_KG, Segment(1.0, -0.04, 80.0))
    steep = segment_flows(DEFAULTS, LOADED_KG, Segment(1.0, -0.03, 80.0))
    marginal_kwh = steeper.regenerated_kwh - steep.regenerated_kwh
    assert marginal_kwh == pytest.approx(0.60 * LOADED_KG * 9.80665 * 0.01 * 1000 / 3.6e6)
    assert segment_energy_kwh(DEFAULTS, LOADED_KG, Segment(1.0, -0.04, 80.0)) < 0.0


def test_regeneration_switched_off_gives_nothing_back() -> None:
    no_regen = EnergyModelParams(regen_share=0.0)
    flows = segment_flows(no_regen, LOADED_KG, Segment(1.0, -0.05, 80.0))
    assert flows.regenerated_kwh == 0.0
    assert flows.net_kwh == pytest.approx(4.0 / 80.0)  # auxiliaries only


def test_summer_penalty_scales_drawn_energy() -> None:
    summer = build_summer_params()
    assert summer.hvac_penalty_frac == SUMMER_AC_PENALTY_FRAC == 0.05
    assert flat_kwh_per_km(LOADED_KG, 80.0, summer) == pytest.approx(
        1.05 * flat_kwh_per_km(LOADED_KG, 80.0)
    )


def test_combination_mass() -> None:
    assert combination_mass_kg(31_000.0) == LOADED_KG
    assert combination_mass_kg(0.0) == EMPTY_COMBINATION_MASS_KG
    with pytest.raises(InputError) as caught:
        combination_mass_kg(-1.0)
    assert caught.value.problems[0].field == "payload_kg"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"length_km": 1.0, "grade_frac": 0.0, "speed_kmh": 0.0}, "speed_kmh"),
        ({"length_km": 1.0, "grade_frac": 0.0, "speed_kmh": -80.0}, "speed_kmh"),
        ({"length_km": 1.0, "grade_frac": 0.16, "speed_kmh": 80.0}, "grade_frac"),
        ({"length_km": 1.0, "grade_frac": -0.151, "speed_kmh": 80.0}, "grade_frac"),
        ({"length_km": 1.0, "grade_frac": math.nan, "speed_kmh": 80.0}, "grade_frac"),
        ({"length_km": 0.0, "grade_frac": 0.0, "speed_kmh": 80.0}, "length_km"),
    ],
)
def test_bad_segment_names_the_field(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InputError) as caught:
        Segment(**kwargs)
    assert [p.field for p in caught.value.problems] == [field]


def test_grade_at_the_bound_is_accepted() -> None:
    assert Segment(1.0, -0.15, 80.0).grade_frac == -0.15


@pytest.mark.parametrize("mass_kg", [-1.0, 0.0, math.inf])
def test_bad_mass_names_the_field(mass_kg: float) -> None:
    with pytest.raises(InputError) as caught:
        segment_energy_kwh(DEFAULTS, mass_kg, Segment(1.0, 0.0, 80.0))
    assert caught.value.problems[0].field == "mass_kg"


def test_bad_params_name_every_field() -> None:
    with pytest.raises(InputError) as caught:
        EnergyModelParams(drive_efficiency=0.0, regen_share=1.5, drag_area_m2=-1.0)
    assert {p.field for p in caught.value.problems} == {
        "drive_efficiency",
        "regen_share",
        "drag_area_m2",
    }


def test_empty_profile_is_rejected() -> None:
    with pytest.raises(InputError) as caught:
        corridor_energy(DEFAULTS, LOADED_KG, [])
    assert caught.value.problems[0].field == "profile"


def test_corridor_sums_its_segments() -> None:
    profile = [Segment(2.0, 0.01, 80.0), Segment(3.0, -0.03, 70.0), Segment(1.5, 0.0, 90.0)]
    result = corridor_energy(DEFAULTS, LOADED_KG, profile)
    assert result.distance_km == pytest.approx(6.5)
    assert result.energy_kwh == pytest.approx(
        sum(segment_energy_kwh(DEFAULTS, LOADED_KG, s) for s in profile)
    )
    assert result.regenerated_kwh > 0.0
    assert result.energy_kwh_per_km == pytest.approx(result.energy_kwh / 6.5)


def test_coastal_profile_shape() -> None:
    profile = build_coastal_rolling_profile(420.0, random.Random(7))
    length_km = sum(s.length_km for s in profile)
    assert length_km == pytest.approx(420.0, abs=1e-9)
    assert abs(net_elevation_change_m(profile)) < 1e-6
    gentle_km = sum(s.length_km for s in profile if abs(s.grade_frac) < 0.02)
    steep = [s for s in profile if abs(s.grade_frac) >= 0.03]
    assert gentle_km / length_km > 0.8  # mostly < 2 %
    assert steep, "a 420 km coastal corridor should have a few short 3-4 % climbs"
    assert all(s.grade_frac > 0 and s.length_km <= 1.2 for s in steep)  # short climbs
    assert max(abs(s.grade_frac) for s in profile) <= 0.04
    assert {s.speed_kmh for s in profile} == {80.0}


def test_coastal_profile_is_deterministic_per_seed() -> None:
    first = build_coastal_rolling_profile(420.0, random.Random(3))
    assert first == build_coastal_rolling_profile(420.0, random.Random(3))
    assert first != build_coastal_rolling_profile(420.0, random.Random(4))


def test_coastal_profile_rejects_bad_length() -> None:
    with pytest.raises(InputError) as caught:
        build_coastal_rolling_profile(0.0, random.Random(1))
    assert caught.value.problems[0].field == "length_km"


def test_round_trip_on_net_zero_profile_costs_a_little_more_than_flat() -> None:
    # Net elevation is zero, so only the 40 % of surplus energy lost to friction brakes on
    # steeper descents makes hills cost more than flat road; it must never cost less.
    profile = build_coastal_rolling_profile(420.0, random.Random(11))
    back = to_opposite_direction(profile)
    assert net_elevation_change_m(back) == pytest.approx(-net_elevation_change_m(profile))
    flat = corridor_energy(DEFAULTS, LOADED_KG, [Segment(840.0, 0.0, 80.0)])
    hilly = corridor_energy(DEFAULTS, LOADED_KG, [*profile, *back])
    ratio = hilly.energy_kwh / flat.energy_kwh
    assert 1.0 < ratio < 1.15
    # With perfect regeneration and drive train the hills would cost exactly nothing extra.
    ideal = EnergyModelParams(drive_efficiency=1.0, regen_share=1.0)
    ideal_flat = corridor_energy(ideal, LOADED_KG, [Segment(840.0, 0.0, 80.0)])
    ideal_hilly = corridor_energy(ideal, LOADED_KG, [*profile, *back])
    assert ideal_hilly.energy_kwh == pytest.approx(ideal_flat.energy_kwh, rel=1e-9)


# Above about 29 km/h the air-drag term grows faster than the auxiliary term (P_aux / v)
# shrinks; below it energy per km *falls* with speed, so the property holds for road speeds.
masses_kg = st.floats(min_value=5_000.0, max_value=60_000.0)
speeds_kmh = st.floats(min_value=35.0, max_value=120.0)


@given(mass_kg=masses_kg, speed_kmh=speeds_kmh, extra_kg=st.floats(1.0, 20_000.0))
def test_flat_energy_per_km_increases_with_mass(
    mass_kg: float, speed_kmh: float, extra_kg: float
) -> None:
    assert flat_kwh_per_km(mass_kg + extra_kg, speed_kmh) > flat_kwh_per_km(mass_kg, speed_kmh)


@given(mass_kg=masses_kg, speed_kmh=speeds_kmh, extra_kmh=st.floats(0.5, 40.0))
def test_flat_energy_per_km_increases_with_speed(
    mass_kg: float, speed_kmh: float, extra_kmh: float
) -> None:
    assert flat_kwh_per_km(mass_kg, speed_kmh + extra_kmh) > flat_kwh_per_km(mass_kg, speed_kmh)
