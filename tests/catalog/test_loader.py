"""Loading catalog files: every bad input is reported with its exact file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from openswap.catalog import load_catalog, load_catalog_with_builtin
from openswap.domain.errors import CatalogError, Problem
from tests.catalog.samples import base_text, write


def problems_of(paths: list[Path]) -> tuple[Problem, ...]:
    with pytest.raises(CatalogError) as info:
        load_catalog(paths)
    return info.value.problems


def test_base_sample_is_valid(tmp_path: Path) -> None:
    catalog = load_catalog([write(tmp_path, "good.yaml", base_text())])
    pack = catalog.pack("P-1")
    assert pack.model is catalog.pack_model("pack-a")
    assert pack.model.frame is catalog.frame("frame-a")
    assert pack.model.sources[0].confidence == "estimate"


# (case id, replaced lines, expected line, expected field, fragments the message must contain)
BAD_INPUTS = [
    (
        "malformed-yaml",
        {15: "    name: Test pack: with a colon"},
        15,
        None,
        ["malformed YAML", "mapping values are not allowed"],
    ),
    (
        "duplicate-key",
        {17: "    frame: frame-a"},
        17,
        "pack_models[0].frame",
        ["duplicate key 'frame'", "first at line 16"],
    ),
    (
        "unknown-frame-reference",
        {16: "    frame: frame-b"},
        16,
        "pack_models[0].frame",
        ["unknown frame 'frame-b'", "did you mean 'frame-a'"],
    ),
    (
        "zero-mm-frame",
        {5: "      length_mm: 0"},
        5,
        "frames[0].envelope.length_mm",
        ["0 must be > 0 and < 20000 mm"],
    ),
    (
        "5000-volt-pack",
        {23: "    max_voltage_v: 5000"},
        23,
        "pack_models[0].max_voltage_v",
        ["5000 must be > 0 and <= 1500 V", "GB 18384-2020"],
    ),
    ("soc-above-one", {40: "    soc: 1.4"}, 40, "packs[0].soc", ["1.4 must be >= 0 and <= 1"]),
    (
        "unknown-field-wrong-unit",
        {24: "    usable_energy_kwh: 136\n    energy_wh: 136000"},
        25,
        "pack_models[0].energy_wh",
        ["unknown field 'energy_wh'", "did you mean 'usable_energy_kwh'"],
    ),
    (
        "wrong-enum-value",
        {17: "    chemistry: LiPo"},
        17,
        "pack_models[0].chemistry",
        ["'LiPo' is not allowed", "'LFP'", "'NMC'", "'Na-ion'"],
    ),
    (
        "wrong-safety-state",
        {43: "    safety_state: broken"},
        43,
        "packs[0].safety_state",
        ["'broken' is not allowed", "'ok'", "'alarm'", "'quarantined'"],
    ),
    (
        "min-above-max-voltage",
        {22: "    min_voltage_v: 800"},
        22,
        "pack_models[0].min_voltage_v",
        ["min_voltage_v 800 V is above max_voltage_v 730 V"],
    ),
    (
        "nominal-outside-window",
        {21: "    nominal_voltage_v: 750"},
        21,
        "pack_models[0].nominal_voltage_v",
        ["750 V lies outside the window 560-730 V"],
    ),
    (
        "pack-heavier-than-frame",
        {32: "    mass_kg: 1200"},
        32,
        "pack_models[0].mass_kg",
        ["1200 kg exceeds the 1100 kg that frame 'frame-a' allows"],
    ),
    (
        "string-for-number",
        {21: '    nominal_voltage_v: "640 V"'},
        21,
        "pack_models[0].nominal_voltage_v",
        ["valid number", "'640 V'"],
    ),
    (
        "quoted-number-is-not-a-number",
        {19: '    cells_in_series: "200"'},
        19,
        "pack_models[0].cells_in_series",
        ["valid integer"],
    ),
    (
        "unknown-pack-model-reference",
        {38: "    model: pack-b"},
        38,
        "packs[0].model",
        ["unknown pack model 'pack-b'", "did you mean 'pack-a'"],
    ),
    (
        "missing-field",
        {30: "    # thermal left out"},
        13,
        "pack_models[0].thermal",
        ["missing required field 'thermal'"],
    ),
    (
        "unknown-section",
        {36: "pakcs:"},
        36,
        "pakcs",
        ["unknown section 'pakcs'", "did you mean 'packs'"],
    ),
    (
        "bad-source-confidence",
        {35: "      - {ref: test fixture, confidence: sure}"},
        35,
        "pack_models[0].sources[0].confidence",
        ["'sure' is not allowed", "'primary'", "'estimate'"],
    ),
]


@pytest.mark.parametrize(
    ("replace", "line", "field", "fragments"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_INPUTS],
)
def test_bad_input_names_file_line_and_field(
    tmp_path: Path,
    replace: dict[int, str],
    line: int,
    field: str | None,
    fragments: list[str],
) -> None:
    path = write(tmp_path, "bad.yaml", base_text(replace))
    problems = problems_of([path])
    assert len(problems) == 1, problems
    (problem,) = problems
    assert (problem.file, problem.line, problem.field) == (str(path), line, field)
    for fragment in fragments:
        assert fragment in problem.message
    # The rendered error leads with the location, so a user can jump straight to it.
    assert str(problem).startswith(f"{path}:{line}: ")


def test_duplicate_id_across_two_files_names_both_locations(tmp_path: Path) -> None:
    first = write(tmp_path, "first.yaml", base_text())
    second = write(
        tmp_path,
        "second.yaml",
        "# another frame file\n" + "\n".join(base_text().splitlines()[:11]) + "\n",
    )
    problems = problems_of([first, second])
    assert len(problems) == 1, problems
    (problem,) = problems
    assert (problem.file, problem.line, problem.field) == (str(second), 3, "frames[0].id")
    assert "duplicate frame id 'frame-a'" in problem.message
    assert f"first defined at {first}:2" in problem.message
    assert f"again at {second}:3" in problem.message


def test_several_problems_in_one_file_are_all_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "many.yaml",
        base_text(
            {
                5: "      length_mm: 0",
                16: "    frame: frame-b",
                17: "    chemistry: LiPo",
                21: '    nominal_voltage_v: "640 V"',
                23: "    max_voltage_v: 5000",
                40: "    soc: 1.4",
                43: "    safety_state: broken",
            }
        ),
    )
    found = {(p.line, p.field) for p in problems_of([path])}
    assert found == {
        (5, "frames[0].envelope.length_mm"),
        (16, "pack_models[0].frame"),
        (17, "pack_models[0].chemistry"),
        (21, "pack_models[0].nominal_voltage_v"),
        (23, "pack_models[0].max_voltage_v"),
        (40, "packs[0].soc"),
        (43, "packs[0].safety_state"),
    }


def test_problems_in_several_files_are_reported_together_in_file_order(tmp_path: Path) -> None:
    broken = write(tmp_path, "a.yaml", "frames: [\n")
    bad = write(tmp_path, "b.yaml", base_text({40: "    soc: 1.4"}))
    missing = tmp_path / "missing.yaml"
    problems = problems_of([broken, bad, missing])
    assert [p.file for p in problems] == [str(missing), str(broken), str(bad)]
    assert "cannot read catalog file" in problems[0].message
    assert problems[2].field == "packs[0].soc"


def test_a_later_file_may_refer_to_ids_of_an_earlier_one(tmp_path: Path) -> None:
    specs = write(tmp_path, "specs.yaml", "\n".join(base_text().splitlines()[:35]) + "\n")
    assets = write(tmp_path, "assets.yaml", "\n".join(base_text().splitlines()[35:]) + "\n")
    catalog = load_catalog([specs, assets])
    assert catalog.pack("P-1").model.id == "pack-a"


def test_user_files_extend_the_builtin_catalog(tmp_path: Path) -> None:
    user = write(
        tmp_path,
        "user.yaml",
        "stations:\n"
        "  - id: my-qiji-station\n"
        "    design: qiji-chassis-4000\n"
        "    name: A new QIJI station\n"
        "    stocked_models: [catl-qiji-171-lfp]\n",
    )
    catalog = load_catalog_with_builtin([user])
    assert catalog.station("my-qiji-station").design.id == "qiji-chassis-4000"
    assert "changle-n" in catalog.stations
    without_assets = load_catalog_with_builtin([user], builtin_assets=False)
    assert set(without_assets.stations) == {"my-qiji-station"}
    assert not without_assets.packs


def test_user_files_may_not_redefine_builtin_ids(tmp_path: Path) -> None:
    user = write(tmp_path, "user.yaml", base_text({2: "  - id: qiji-75", 16: "    frame: qiji-75"}))
    with pytest.raises(CatalogError) as info:
        load_catalog_with_builtin([user])
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.field) == (str(user), 2, "frames[0].id")
    assert "first defined at builtin:specs/frames.yaml:" in problem.message


def test_reference_problems_are_reported_even_in_entries_with_other_problems(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "x.yaml", base_text({38: "    model: nope", 40: "    soc: 2"}))
    found = {(p.line, p.field) for p in problems_of([path])}
    assert found == {(38, "packs[0].model"), (40, "packs[0].soc")}


@pytest.mark.parametrize(
    ("text", "line", "field", "fragment"),
    [
        pytest.param("- just a list\n", 1, None, "top level must be a mapping", id="top-list"),
        pytest.param("frames: 3\n", 1, "frames", "must be a list", id="section-not-list"),
        pytest.param("frames:\n  - 42\n", 2, "frames[0]", "must be a mapping", id="entry-scalar"),
        pytest.param(
            "frames:\n  - id: has space\n",
            2,
            "frames[0].id",
            "not a valid id",
            id="bad-id",
        ),
    ],
)
def test_structural_problems(
    tmp_path: Path, text: str, line: int, field: str | None, fragment: str
) -> None:
    path = write(tmp_path, "s.yaml", text)
    problems = problems_of([path])
    hits = [p for p in problems if (p.line, p.field) == (line, field)]
    assert hits, problems
    assert fragment in hits[0].message


def test_an_empty_file_is_an_empty_catalog(tmp_path: Path) -> None:
    catalog = load_catalog([write(tmp_path, "empty.yaml", "# nothing yet\n")])
    assert not catalog.frames
    assert not catalog.packs


@pytest.mark.parametrize(
    ("text", "line", "field", "fragment"),
    [
        pytest.param(
            "vehicles:\n"
            "  - id: v1\n"
            "    model: deepway-xingtu-6x4-qiji\n"
            "    fleet: f\n"
            "    pack_count: 4\n",
            5,
            "vehicles[0].pack_count",
            "exceeds the 3 pack positions",
            id="pack-count-over-positions",
        ),
        pytest.param(
            "stations:\n"
            "  - id: s1\n"
            "    design: qiji-chassis-4000\n"
            "    name: S\n"
            "    stocked_models: [catl-qiji-171-lfp, catl-qiji-171]\n",
            5,
            "stations[0].stocked_models[1]",
            "unknown pack model 'catl-qiji-171'; did you mean 'catl-qiji-171-lfp'",
            id="unknown-stocked-model",
        ),
        pytest.param(
            "adapters:\n"
            "  - id: a1\n"
            "    kind: frame\n"
            "    from_id: qiji-75\n"
            "    to_id: open-chasis-a\n"
            "    certification: C-1\n",
            5,
            "adapters[0].to_id",
            "unknown frame 'open-chasis-a'; did you mean 'open-chassis-a'",
            id="frame-adapter-unknown-frame",
        ),
    ],
)
def test_cross_entry_problems_against_the_builtin_catalog(
    tmp_path: Path, text: str, line: int, field: str, fragment: str
) -> None:
    path = write(tmp_path, "user.yaml", text)
    with pytest.raises(CatalogError) as info:
        load_catalog_with_builtin([path], builtin_assets=False)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.field) == (str(path), line, field)
    assert fragment in problem.message


def test_a_vehicle_cannot_accept_a_frame_of_another_mount(tmp_path: Path) -> None:
    text = base_text()
    text += (
        "vehicle_models:\n"  # 46
        "  - id: vm-1\n"
        "    oem: O\n"
        "    name: N\n"
        "    body: tractor 6x4\n"  # 50
        "    gcw_kg: 49000\n"
        "    mount: top_lift\n"
        "    bay_envelope: {length_mm: 1600, width_mm: 1100, height_mm: 700}\n"
        "    pack_positions: 3\n"
        "    max_pack_mass_kg: 1100\n"  # 55
        "    accepted_frames: [frame-a]\n"
        "    accepted_locks: [hydraulic_pin]\n"
        "    hv_min_voltage_v: 500\n"
        "    hv_max_voltage_v: 400\n"
        "    hv_connector: conn-a\n"  # 60
        "    bms_protocols: [gbt27930-2015]\n"
        "    peak_traction_power_kw: 500\n"
    )
    path = write(tmp_path, "vm.yaml", text)
    problems = problems_of([path])
    found = {(p.line, p.field): p.message for p in problems}
    assert set(found) == {(58, "vehicle_models[0].hv_min_voltage_v")}
    # Fix the window: now the entry validates and the frame/mount conflict shows up.
    path.write_text(text.replace("hv_max_voltage_v: 400", "hv_max_voltage_v: 800"))
    (problem,) = problems_of([path])
    assert (problem.line, problem.field) == (56, "vehicle_models[0].accepted_frames[0]")
    assert "frame 'frame-a' is a chassis frame; the vehicle mount is top_lift" in problem.message
