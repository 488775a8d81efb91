"""`openswap station emulate` against a running central system."""

from __future__ import annotations

from typer.testing import CliRunner

from openswap.cli.station import app
from tests.ocpp.support import PASSWORD, central_system, with_password
from tests.storage.support import Database, build_network


def test_emulate_boots_and_reports(db: Database) -> None:
    build_network(db)
    with_password(db)
    with central_system(db.ctx()) as server:
        result = CliRunner().invoke(
            app,
            [
                "--station",
                "s1",
                "--url",
                server.url,
                "--slots",
                "6",
                "--password",
                PASSWORD,
                "--pack",
                "P01",
                "--pack",
                "P02",
                "--meter-interval",
                "0.2",
                "--duration",
                "1.5",
            ],
        )
    assert result.exit_code == 0, result.output
    assert "boot: Accepted" in result.output
    with db.uow() as uow:
        statuses = {c.evse_id: c.status for c in uow.station_links.connectors("s1")}
        assert statuses[1] == "Occupied"
        assert statuses[6] == "Available"
        assert uow.station_links.sessions("s1")
