"""A small valid catalog file with known line numbers, and helpers to break it line by line."""

from __future__ import annotations

from pathlib import Path

# Line numbers matter: the bad-input tests name them. Keep this text as it is.
BASE_LINES: tuple[str, ...] = (
    "frames:",  # 1
    "  - id: frame-a",  # 2
    "    name: Test chassis frame",  # 3
    "    envelope:",  # 4
    "      length_mm: 1500",  # 5
    "      width_mm: 1000",  # 6
    "      height_mm: 600",  # 7
    "    max_mass_kg: 1100",  # 8
    "    mount: chassis",  # 9
    "    lock: hydraulic_pin",  # 10
    "    interface_id: frame-a-if",  # 11
    "pack_models:",  # 12
    "  - id: pack-a",  # 13
    "    maker: Maker A",  # 14
    "    name: Test pack",  # 15
    "    frame: frame-a",  # 16
    "    chemistry: LFP",  # 17
    "    cell_format: prismatic LFP 250 Ah",  # 18
    "    cells_in_series: 200",  # 19
    "    cells_in_parallel: 1",  # 20
    "    nominal_voltage_v: 640",  # 21
    "    min_voltage_v: 560",  # 22
    "    max_voltage_v: 730",  # 23
    "    usable_energy_kwh: 136",  # 24
    "    max_discharge_power_kw: 200",  # 25
    "    max_charge_power_kw: 180",  # 26
    "    hv_connector: conn-a",  # 27
    "    bms_protocols: [gbt27930-2015]",  # 28
    "    charge_standards: [gbt]",  # 29
    "    thermal: liquid",  # 30
    "    insulation_rating_ohm_per_v: 500",  # 31
    "    mass_kg: 950",  # 32
    "    cycle_life: 8000",  # 33
    "    sources:",  # 34
    "      - {ref: test fixture, confidence: estimate}",  # 35
    "packs:",  # 36
    "  - serial: P-1",  # 37
    "    model: pack-a",  # 38
    "    owner: Owner",  # 39
    "    soc: 0.9",  # 40
    "    soh: 0.95",  # 41
    "    cycle_count: 10",  # 42
    "    safety_state: ok",  # 43
    "    insulation_resistance_ohm: 2000000",  # 44
    "    max_cell_temp_spread_c: 2.0",  # 45
)


def base_text(replace: dict[int, str] | None = None) -> str:
    """The base catalog with line `n` (1-based) replaced by `replace[n]` (may span lines)."""
    lines = list(BASE_LINES)
    for number, text in (replace or {}).items():
        assert lines[number - 1].strip(), "replace a real line"
        lines[number - 1] = text
    return "\n".join(lines) + "\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
