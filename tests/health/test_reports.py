from __future__ import annotations

import json

from openswap.health.ageing import EolForecast
from openswap.health.reports import PackHealthSummary, SohPoint, build_fleet_report


def _pack(serial: str, maker: str, soh: float, eol_days: float | None = None) -> PackHealthSummary:
    eol = None if eol_days is None else EolForecast(0.8, eol_days, eol_days / 2, eol_days * 2, 0.9)
    point = SohPoint(0.0, soh, soh - 0.01, soh + 0.01)
    return PackHealthSummary(serial, maker, "m", (point,), (), eol=eol)


def test_fleet_report_classifies_and_groups() -> None:
    packs = [
        _pack("a", "CATL", 0.95),
        _pack("b", "CATL", 0.81),  # within 3 points of 80 %: near end of life
        _pack("c", "BYD", 0.90, eol_days=100),  # forecast within half a year
        _pack("d", "BYD", 0.75),  # second life
        _pack("e", "BYD", 0.65),  # below second life
    ]
    report = build_fleet_report(packs)
    assert report.near_eol == ("b", "c")
    assert report.second_life == ("d",)
    assert report.below_second_life == ("e",)
    by = {d.group: d for d in report.distributions}
    assert by["BYD"].n_packs == 3
    assert sum(by["CATL"].histogram_counts) == 2
    json.dumps(report.to_dict())
    json.dumps(packs[2].to_dict())
