"""Health endpoints: bulk upload (bad readings rejected with reasons, never the request), a
pack's health report and the fleet report; role checks."""

from __future__ import annotations

import json

import numpy as np

from openswap.health.batch import reading_to_payload
from openswap.health.synth import SynthPackSpec, synthesise
from openswap.services.health import HealthService
from openswap.storage import SqlTelemetryStore
from tests.api.conftest import Api, assert_problem
from tests.storage.support import T0


def _payloads(n_minutes: float = 2.0) -> list[dict[str, object]]:
    res = synthesise(
        [SynthPackSpec("P01")],
        n_minutes / 1440,
        1.0,
        [],
        np.random.default_rng(4),
        start_s=T0.timestamp(),
    )
    return [reading_to_payload(r) for r in res.telemetry["P01"].readings()]


def test_bulk_upload_report_and_fleet(api: Api) -> None:
    api.app.state.health = HealthService(api.db.ctx(), SqlTelemetryStore(api.db.engine))
    body = _payloads()
    body.append({"serial": "P01", "soc": "full"})
    resp = api.post("s1", "/v1/telemetry", json=body)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["stored"] == len(body) - 1
    assert out["rejected"] == 1
    assert ": missing" in json.dumps(out["rejections"])
    again = api.post("operator", "/v1/telemetry", json=body).json()
    assert again["stored"] == 0
    assert again["duplicates"] == len(body) - 1
    report = api.get("fleet_a", "/v1/packs/P01/health")
    assert report.status_code == 200
    assert report.json()["serial"] == "P01"
    assert_problem(api.get("fleet_a", "/v1/packs/NOPE/health"), 404)
    fleet = api.get("auditor", "/v1/health/fleet", by="model")
    assert fleet.status_code == 200
    assert fleet.json()["distributions"][0]["group"] == "catl-qiji-171-lfp"
    assert_problem(api.post("fleet_a", "/v1/telemetry", json=body), 403)
    assert_problem(api.post("s1", "/v1/telemetry", json={"not": "an array"}), 422)
