"""The synthetic network generator: feasible by construction, deterministic, YAML round trip."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from openswap.catalog.generate import MAX_SPACING_KM, generate_scenario, generate_scenario_data
from openswap.catalog.scenario import (
    load_scenario,
    load_scenario_text,
    scenario_to_yaml,
    to_yaml_text,
)
from openswap.domain.errors import ScenarioError
from openswap.domain.feasibility import check_scenario


@pytest.mark.parametrize(
    ("trucks", "corridors", "stations", "seed"), [(400, 6, 3, 1), (50, 3, 0, 2), (900, 4, 1, 3)]
)
def test_generated_network_is_feasible(
    trucks: int, corridors: int, stations: int, seed: int
) -> None:
    s = generate_scenario(trucks, corridors, stations, seed, 1.0)
    assert check_scenario(s) == []
    assert sum(f.count for f in s.fleets) == trucks
    assert len(s.corridors) == corridors
    assert len(s.stations) == 2 * corridors * stations
    for c in s.corridors:
        assert 150.0 <= c.length_km <= 600.0
        kms = [0.0, *sorted({st.km for st in s.stations if st.corridor == c.id}), c.length_km]
        assert max(b - a for a, b in itertools.pairwise(kms)) <= MAX_SPACING_KM + 1e-6
    assert len({f.pack_model.id for f in s.fleets}) >= 2 or corridors < 3


def test_province_scale_is_feasible() -> None:
    s = generate_scenario(120_000, 40, 3, 0, 1.0)
    assert sum(f.count for f in s.fleets) == 120_000
    assert len(s.corridors) == 40
    assert len({f.pack_model.id for f in s.fleets}) >= 3
    assert len({f.vehicle_model.id for f in s.fleets}) >= 3
    assert check_scenario(s) == []


def test_same_seed_same_scenario_other_seed_other() -> None:
    assert generate_scenario(300, 4, 2, 9, 1.0) == generate_scenario(300, 4, 2, 9, 1.0)
    assert generate_scenario(300, 4, 2, 9, 1.0) != generate_scenario(300, 4, 2, 10, 1.0)


def test_yaml_round_trip(tmp_path: Path) -> None:
    data = generate_scenario_data(200, 3, 2, 4, 0.5)
    path = tmp_path / "net.yaml"
    path.write_text(to_yaml_text(data, "generated"), encoding="utf-8")
    assert load_scenario(path) == generate_scenario(200, 3, 2, 4, 0.5)
    # the general writer (explicit segments) round-trips too
    s = generate_scenario(200, 3, 2, 4, 0.5)
    assert load_scenario_text(scenario_to_yaml(s), "again.yaml") == s


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ScenarioError) as info:
        generate_scenario(2, 5, -1, 0, 0.0)
    fields = {p.field for p in info.value.problems}
    assert fields == {"trucks", "stations_per_corridor", "days"}
