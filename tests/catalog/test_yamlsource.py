"""YAML with locations: line of every path, duplicate keys, malformed input."""

from __future__ import annotations

import time

import pytest

from openswap.catalog.yamlsource import format_path, parse_yaml
from openswap.domain.errors import InputError

TEXT = """\
# comment
top:
  - name: a
    inner: {x: 1, y: [10, 20]}
  -
    name: b
other: 3
"""


def test_every_path_has_its_one_based_line() -> None:
    doc = parse_yaml(TEXT, "t.yaml")
    assert doc.data == {
        "top": [{"name": "a", "inner": {"x": 1, "y": [10, 20]}}, {"name": "b"}],
        "other": 3,
    }
    assert doc.lines[()] == 2
    assert doc.lines[("top",)] == 2
    assert doc.lines[("top", 0)] == 3
    assert doc.lines[("top", 0, "inner", "y", 1)] == 4
    assert doc.lines[("top", 1, "name")] == 6
    assert doc.lines[("other",)] == 7


def test_missing_paths_fall_back_to_the_nearest_ancestor() -> None:
    doc = parse_yaml(TEXT, "t.yaml")
    assert doc.line_of(("top", 1, "not-there", 3)) == 6
    problem = doc.problem("msg", ("top", 0, "inner", "z"))
    assert (problem.file, problem.line, problem.field) == ("t.yaml", 4, "top[0].inner.z")


def test_format_path() -> None:
    assert format_path(("pack_models", 3, "nominal_voltage_v")) == (
        "pack_models[3].nominal_voltage_v"
    )
    assert format_path(()) == ""


def test_all_duplicate_keys_are_rejected_at_the_second_occurrence() -> None:
    text = "a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\na: 4\n"
    with pytest.raises(InputError) as info:
        parse_yaml(text, "d.yaml")
    found = [(p.file, p.line, p.field) for p in info.value.problems]
    assert found == [("d.yaml", 5, "b.c"), ("d.yaml", 6, "a")]
    assert "first at line 3" in info.value.problems[0].message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param("a: [1, 2\nb: 3\n", 2, id="unclosed-flow"),
        pytest.param("a: 1\n b: 2\n", 2, id="bad-indent"),
        pytest.param("a: 1\n\tb: 2\n", 2, id="tab"),
        pytest.param('a: "open\n', 2, id="unterminated-quote"),
        pytest.param("a: !!python/object:os.system x\n", 1, id="unsafe-tag"),
    ],
)
def test_malformed_yaml_names_file_and_line(text: str, line: int) -> None:
    with pytest.raises(InputError) as info:
        parse_yaml(text, "m.yaml")
    (problem,) = info.value.problems
    assert (problem.file, problem.line) == ("m.yaml", line)
    assert problem.message.startswith("malformed YAML")


def test_empty_document_is_none() -> None:
    doc = parse_yaml("# only a comment\n", "e.yaml")
    assert doc.data is None


def test_nested_aliases_are_walked_once() -> None:
    # "Billion laughs": 9 levels of 9 aliases would be 9**9 visits if aliases were re-walked.
    levels = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        levels.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    start = time.perf_counter()
    doc = parse_yaml("\n".join(levels) + "\n", "b.yaml")
    assert time.perf_counter() - start < 2.0
    assert doc.lines[("l9",)] == 10
