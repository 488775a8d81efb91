"""`openswap health`: telemetry ingest over MQTT, file import, synthetic telemetry and health
reports (Rich tables; a PNG of a pack's SoH over time with the forecast band).

The composition root of the health capability on the command line: it reads the database URL
(`OPENSWAP_DATABASE_URL`, else ./openswap.db), builds the store and the service and hands them
to the ingest adapter.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from openswap.health.batch import reading_to_payload
from openswap.health.synth import (
    CapacityFade,
    CoolingFailure,
    DriftingCell,
    Fault,
    InsulationDecline,
    ResistanceGrowth,
    SelfDischarge,
    StuckSensor,
    ThermalRunaway,
    build_fleet_specs,
    synthesise,
)
from openswap.ingest.files import read_items, write_readings
from openswap.ingest.mqtt import TOPIC_FILTER, MqttIngest, MqttSettings, bms_topic
from openswap.services.health import HealthService, PackHealthReport
from openswap.services.operations import OperationsContext
from openswap.storage import SqlTelemetryStore, build_engine, build_uow_factory, upgrade

app = typer.Typer(
    help="Pack health: telemetry ingest, synthetic telemetry, reports.", no_args_is_help=True
)
console = Console()
FAULT_KINDS = (
    "runaway",
    "fade",
    "resistance",
    "cooling",
    "drift",
    "stuck",
    "leak",
    "insulation",
)


def _service(database: str | None) -> HealthService:
    upgrade(database)
    engine = build_engine(database)
    return HealthService(
        OperationsContext(uow=build_uow_factory(engine)), SqlTelemetryStore(engine)
    )


@app.command("ingest")
def ingest_cmd(
    mqtt: str = typer.Option(..., "--mqtt", help="broker URL, e.g. mqtt://127.0.0.1:1883"),
    topic: str = typer.Option(TOPIC_FILTER, "--topic", help="subscription filter"),
    client_id: str = typer.Option(
        "openswap-health-ingest", "--client-id", help="fixed: the broker keeps its session"
    ),
    batch_size: int = typer.Option(2000, "--batch-size", min=1),
    batch_wait_s: float = typer.Option(0.2, "--batch-wait", min=0.0),
    database: str | None = typer.Option(None, "--database", help="database URL"),
) -> None:
    """Subscribe to BMS readings and store, analyse and act on them until interrupted."""
    svc = _service(database)
    settings = MqttSettings.from_url(
        mqtt, topic=topic, client_id=client_id, batch_size=batch_size, batch_wait_s=batch_wait_s
    )
    console.print(f"subscribing to [bold]{topic}[/] on {settings.host}:{settings.port} (QoS 1)")
    MqttIngest(svc.ingest, settings).run_forever()


@app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV or Parquet file"),
    database: str | None = typer.Option(None, "--database", help="database URL"),
) -> None:
    """Import readings from a file; bad lines go to the dead-letter table with their line."""
    svc = _service(database)
    stored = dup = rejected = 0
    for items in read_items(file):
        out = svc.ingest(items)
        stored, dup, rejected = stored + out.stored, dup + out.duplicates, rejected + out.rejected
        for source, reasons in out.reasons[:5]:
            console.print(f"[yellow]{source}[/]: {'; '.join(reasons)}")
    console.print(f"{stored} readings stored, {dup} already stored, {rejected} rejected")


def _fault(kind: str, s: str, start_s: float, mid: float) -> Fault:
    if kind == "runaway":
        return ThermalRunaway(s, mid + 0.5, 37)
    if kind == "fade":
        return CapacityFade(s, start_s, 0.002)
    if kind == "resistance":
        return ResistanceGrowth(s, start_s, 0.01)
    if kind == "cooling":
        return CoolingFailure(s, mid)
    if kind == "drift":
        return DriftingCell(s, start_s, 12)
    if kind == "stuck":
        return StuckSensor(s, mid, 2)
    if kind == "leak":
        return SelfDischarge(s, start_s, 1.5)
    return InsulationDecline(s, mid)


def _faults(spec: list[str], serials: list[str], start_s: float, days: float) -> list[Fault]:
    """`kind[:pack index]` entries, e.g. `runaway:0 drift:3`; onsets mid-period."""
    out: list[Fault] = []
    mid = start_s + days * 86_400 / 2
    for k, entry in enumerate(spec):
        kind, _, idx = entry.partition(":")
        if kind not in FAULT_KINDS:
            raise typer.BadParameter(f"unknown fault {kind!r}; one of {', '.join(FAULT_KINDS)}")
        i = int(idx) if idx else k
        if not 0 <= i < len(serials):
            raise typer.BadParameter(f"fault {entry!r}: no pack {i}")
        out.append(_fault(kind, serials[i], start_s, mid))
    return out


@app.command("synth")
def synth_cmd(
    packs: int = typer.Option(4, "--packs", min=1),
    days: float = typer.Option(1.0, "--days", min=0.001),
    faults: list[str] = typer.Option([], "--faults", help="kind[:pack], e.g. runaway:0 drift:1"),
    prefix: str = typer.Option("P", "--prefix", help="serial prefix (serials must be registered)"),
    station: str = typer.Option("s1", "--station"),
    start: float = typer.Option(
        None, "--start", help="epoch seconds of the first reading (now - days)"
    ),
    seed: int = typer.Option(20261124, "--seed"),
    out: Path | None = typer.Option(None, "--out", help="write CSV or Parquet"),
    mqtt: str | None = typer.Option(None, "--mqtt", help="publish to this broker instead"),
) -> None:
    """Synthetic telemetry with injected faults (the engine's generator)."""
    if (out is None) == (mqtt is None):
        raise typer.BadParameter("give exactly one of --out and --mqtt")
    rng = np.random.default_rng(seed)
    specs = build_fleet_specs(packs, rng, prefix=prefix)
    start_s = time.time() - days * 86_400 if start is None else start
    serials = [s.serial for s in specs]
    res = synthesise(
        specs, days, 1.0, _faults(faults, serials, start_s, days), rng, start_s=start_s
    )
    readings = sorted(
        (r for tel in res.telemetry.values() for r in tel.readings()), key=lambda r: r.time_s
    )
    if out is not None:
        n = write_readings(out, readings, station)
        console.print(f"{n} readings of {packs} packs written to {out}")
        return
    assert mqtt is not None
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    settings = MqttSettings.from_url(mqtt)
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    if settings.username is not None:
        client.username_pw_set(settings.username, settings.password)
    client.max_inflight_messages_set(1000)
    client.connect(settings.host, settings.port)
    client.loop_start()
    try:
        infos = [
            client.publish(bms_topic(station, r.serial), json.dumps(reading_to_payload(r)), qos=1)
            for r in readings
        ]
        for info in infos:
            info.wait_for_publish(timeout=60)
    finally:
        client.loop_stop()
        client.disconnect()
    console.print(f"{len(readings)} readings of {packs} packs published to {mqtt}")


def _pct(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{100 * x:.1f} %"


def _plot(report: PackHealthReport, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = report.summary
    fig, ax = plt.subplots(figsize=(8, 4))
    day = 86_400.0
    t0 = s.capacity[0].time_s if s.capacity else 0.0
    if s.capacity:
        t = [(p.time_s - t0) / day for p in s.capacity]
        ax.errorbar(
            t,
            [p.soh for p in s.capacity],
            yerr=[
                [p.soh - p.soh_low for p in s.capacity],
                [p.soh_high - p.soh for p in s.capacity],
            ],
            fmt="o",
            label="capacity SoH (95 %)",
        )
    if s.resistance:
        ax.plot(
            [(p.time_s - t0) / day for p in s.resistance],
            [p.soh for p in s.resistance],
            "s",
            label="resistance SoH",
        )
    if s.forecast_band:
        t = [(p.time_s - t0) / day for p in s.forecast_band]
        ax.fill_between(
            t,
            [p.soh_low for p in s.forecast_band],
            [p.soh_high for p in s.forecast_band],
            alpha=0.3,
            label="forecast 5-95 %",
        )
        ax.plot(t, [p.soh for p in s.forecast_band], "-", label="forecast median")
    ax.axhline(0.8, color="grey", linestyle="--", label="end of first life (80 %)")
    ax.set_xlabel("days")
    ax.set_ylabel("SoH")
    ax.set_title(f"{s.serial} ({s.maker} {s.model})")
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


@app.command("report")
def report_cmd(
    pack: str | None = typer.Option(None, "--pack", help="one pack's report"),
    by: str = typer.Option("maker", "--by", help="fleet report grouped by maker or model"),
    plot: Path | None = typer.Option(None, "--plot", help="PNG of the pack's SoH and forecast"),
    database: str | None = typer.Option(None, "--database", help="database URL"),
) -> None:
    """Health report of one pack, or of the fleet by maker or model."""
    svc = _service(database)
    if pack is not None:
        report = svc.pack_report(pack)
        s = report.summary
        t = Table(title=f"pack {s.serial}: {s.maker} {s.model}, safety {report.safety_state}")
        for col in ("window end", "capacity SoH", "95 % interval", "resistance SoH"):
            t.add_column(col)
        res = {p.time_s: p for p in s.resistance}
        for p in s.capacity:
            r = res.get(p.time_s)
            t.add_row(
                time.strftime("%Y-%m-%d %H:%M", time.gmtime(p.time_s)),
                _pct(p.soh),
                f"{_pct(p.soh_low)} - {_pct(p.soh_high)}",
                _pct(r.soh) if r else "-",
            )
        console.print(t)
        if s.eol is not None:
            e = s.eol
            console.print(
                f"80 % in {e.days_median:.0f} days ({e.days_low:.0f}-{e.days_high:.0f}, "
                f"{e.level:.0%} interval)"
            )
        console.print(f"max temperature spread {s.max_spread_c:.1f} °C")
        alarms = Table(title="alarms")
        for col in ("detected", "kind", "severity", "subject", "evidence"):
            alarms.add_column(col)
        for a in s.alarms[:20]:
            alarms.add_row(
                time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(a.detected_time_s)),
                str(a.kind),
                str(a.severity),
                a.subject,
                a.evidence,
            )
        console.print(alarms)
        if plot is not None:
            _plot(report, plot)
            console.print(f"plot written to {plot}")
        return
    if by not in ("maker", "model"):
        raise typer.BadParameter("--by is maker or model")
    fleet = svc.fleet_report(by)
    t = Table(title=f"fleet SoH by {by}")
    for col in (by, "packs", "mean", "p05", "p50", "p95"):
        t.add_column(col)
    for d in fleet.distributions:
        q = d.quantiles
        t.add_row(
            d.group,
            str(d.n_packs),
            _pct(d.mean),
            _pct(q.get("p05", math.nan)),
            _pct(q.get("p50", math.nan)),
            _pct(q.get("p95", math.nan)),
        )
    console.print(t)
    console.print(f"near end of life: {', '.join(fleet.near_eol) or '-'}")
    console.print(f"second-life candidates (70-80 %): {', '.join(fleet.second_life) or '-'}")
    console.print(f"below second life (< 70 %): {', '.join(fleet.below_second_life) or '-'}")
