"""A small valid scenario file with known line numbers, and a helper to break it line by line."""

from __future__ import annotations

# Line numbers matter: the bad-input tests name them. Keep this text as it is.
SCENARIO_LINES: tuple[str, ...] = (
    "id: sample",  # 1
    "name: Sample line",  # 2
    "corridors:",  # 3
    "  - id: road",  # 4
    "    name: Test road",  # 5
    "    length_km: 300",  # 6
    "    waypoints: {west: 0, middle: 150, east: 300}",  # 7
    "    grade_profile: flat",  # 8
    "    forward_label: eastbound",  # 9
    "    backward_label: westbound",  # 10
    "station_defaults:",  # 11
    "  grid_kva: 4000",  # 12
    "  slots: 18",  # 13
    "stations:",  # 14
    "  - id: mid-e",  # 15
    "    name: Middle, eastbound",  # 16
    "    corridor: road",  # 17
    "    km: 150",  # 18
    "    direction: eastbound",  # 19
    "    design: qiji-chassis-4000",  # 20
    "    stock: {catl-qiji-171-lfp: 12}",  # 21
    "  - id: mid-w",  # 22
    "    name: Middle, westbound",  # 23
    "    corridor: road",  # 24
    "    km: 150",  # 25
    "    direction: westbound",  # 26
    "    design: qiji-chassis-4000",  # 27
    "    stock: {catl-qiji-171-lfp: 12}",  # 28
    "fleets:",  # 29
    "  - id: qiji",  # 30
    "    vehicle_model: deepway-xingtu-6x4-qiji",  # 31
    "    count: 10",  # 32
    "    pack_model: catl-qiji-171-lfp",  # 33
    "    packs_per_vehicle: 3",  # 34
    "    corridor: road",  # 35
    "    origin: west",  # 36
    "    destination: east",  # 37
    "    trips_per_day: 2",  # 38
    "    departure_profile: bimodal_07_19",  # 39
    "    turnaround_min: 30",  # 40
    "timing:",  # 41
    "  swap_service_min: {min: 3, mode: 5, max: 7}",  # 42
    "  patience_min: 45",  # 43
    "driver:",  # 44
    "  max_continuous_drive_h: 4",  # 45
    "run:",  # 46
    "  days: 1",  # 47
    "  warmup_days: 0.25",  # 48
    "  seed: 3",  # 49
)


def scenario_text(replace: dict[int, str] | None = None, append: tuple[str, ...] = ()) -> str:
    """The sample with 1-based lines replaced (an empty string drops the line) and lines added."""
    lines = list(SCENARIO_LINES)
    for number, text in (replace or {}).items():
        lines[number - 1] = text
    return "\n".join([*(line for line in lines if line != ""), *append]) + "\n"
