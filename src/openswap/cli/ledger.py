"""`openswap ledger`: relay the outbox into the log, publish checkpoints, export and verify
battery passports, audit the stored log, and manage entry-signing keys.

Settings: `OPENSWAP_DATABASE_URL` (the service database, migrated), `OPENSWAP_LEDGER_ORIGIN` (the
log's name), `OPENSWAP_LEDGER_KEK` (base64 key-encryption key sealing private keys) or else the
file `OPENSWAP_LEDGER_KEK_FILE` (default `./openswap-ledger.kek`, created 0600 when missing).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from openswap.api.settings import LEDGER_ORIGIN_ENV
from openswap.domain.errors import InputError, Problem
from openswap.ledger.passport import from_trusted_keys_json, verify_passport
from openswap.services import ledger as svc
from openswap.storage import build_engine
from openswap.storage.ledger import build_kek_text, build_ledger_uow_factory, kek_from_text

app = typer.Typer(help="The tamper-evident lifecycle ledger.", no_args_is_help=True)
keys_app = typer.Typer(help="Entry-signing keys: list, create, rotate, revoke, export.")
app.add_typer(keys_app, name="keys")
console = Console()

KEK_ENV = "OPENSWAP_LEDGER_KEK"
KEK_FILE_ENV = "OPENSWAP_LEDGER_KEK_FILE"
DEFAULT_KEK_FILE = "openswap-ledger.kek"
DEFAULT_AUDIT_STATE = ".openswap-audit-checkpoint"


def _kek() -> bytes:
    text = os.environ.get(KEK_ENV, "").strip()
    if text:
        return kek_from_text(text)
    path = Path(os.environ.get(KEK_FILE_ENV, DEFAULT_KEK_FILE))
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(build_kek_text() + "\n")
    return kek_from_text(path.read_text())


def build_ledger_context() -> svc.LedgerContext:
    """The ledger context of the configured database (composition root)."""
    origin = os.environ.get(LEDGER_ORIGIN_ENV, "").strip() or svc.DEFAULT_ORIGIN
    return svc.LedgerContext(uow=build_ledger_uow_factory(build_engine(), _kek()), origin=origin)


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text("utf-8")
    except OSError as exc:
        raise InputError([Problem(f"cannot read {what}: {exc.strerror}", file=str(path))]) from None


@app.command("relay")
def relay_cmd(
    follow: bool = typer.Option(False, "--follow", help="Keep relaying new events."),
    interval_s: float = typer.Option(2.0, "--interval", help="Seconds between polls (--follow)."),
    batch: int = typer.Option(1000, "--batch", min=1, help="Outbox events per transaction."),
    retry_rejected: bool = typer.Option(
        False, "--retry-rejected", help="Requeue rejected events first (after fixing the cause)."
    ),
) -> None:
    """Feed unpublished outbox events into the log, exactly once."""
    lctx = build_ledger_context()
    if retry_rejected:
        console.print(f"requeued {svc.requeue_rejected(lctx)} rejected events")
    while True:
        r = svc.relay_all(lctx, batch)
        if r.events or not follow:
            console.print(
                f"{r.events} events: {r.appended} appended ({r.entries} entries), "
                f"{r.skipped} skipped, {r.rejected} rejected"
            )
            for rec in r.rejections[:20]:
                console.print(f"  rejected outbox #{rec.outbox_seq}: {'; '.join(rec.reasons)}")
        if not follow:
            return
        time.sleep(interval_s)


@app.command("checkpoint")
def checkpoint_cmd() -> None:
    """Publish a signed checkpoint of the current tree and print it (C2SP signed note)."""
    cp = svc.publish_checkpoint(build_ledger_context())
    typer.echo(cp.note, nl=False)


@app.command("passport")
def passport_cmd(
    serial: str = typer.Argument(..., help="Pack serial."),
    out: Path | None = typer.Option(None, "--out", help="Write the JSON here."),
) -> None:
    """Export the battery passport of a pack, with proofs and a signed checkpoint."""
    doc = svc.build_passport(build_ledger_context(), serial)
    text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, "utf-8")
        console.print(f"passport of {serial}: {len(doc['evidence']['entries'])} entries -> {out}")


@app.command("verify-passport")
def verify_passport_cmd(
    file: Path = typer.Argument(..., help="Passport JSON."),
    keys: Path = typer.Option(..., "--keys", help="Trusted public keys (`ledger keys export`)."),
) -> None:
    """Verify a passport offline with public keys only; exit 1 when it fails."""
    try:
        doc = json.loads(_read(file, "the passport"))
        trusted = from_trusted_keys_json(_read(keys, "the keys"))
    except ValueError as exc:
        raise InputError([Problem(str(exc))]) from None
    if not isinstance(doc, dict):
        raise InputError([Problem("a passport is a JSON object", file=str(file))])
    verdict = verify_passport(doc, trusted)
    if verdict.ok:
        console.print(
            f"[green]ok[/]: {verdict.serial}, {verdict.entries} entries in the signed tree of "
            f"{verdict.tree_size}"
        )
        return
    console.print(f"[bold red]passport does not verify[/] ({len(verdict.problems)} problems)")
    for p in verdict.problems:
        console.print(f"  {p}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@app.command("audit")
def audit_cmd(
    state: Path = typer.Option(
        Path(DEFAULT_AUDIT_STATE), "--state", help="Where this auditor keeps the last checkpoint."
    ),
    keys: Path | None = typer.Option(None, "--keys", help="Trusted keys (default: the log's)."),
) -> None:
    """Re-verify the stored tree and the consistency with the last checkpoint seen; exit 1 on
    any finding (and keep the remembered checkpoint)."""
    seen = state.read_text("utf-8") if state.exists() else None
    verifiers: tuple[str, ...] = ()
    if keys is not None:
        try:
            verifiers = from_trusted_keys_json(_read(keys, "the keys")).checkpoint_verifiers
        except ValueError as exc:
            raise InputError([Problem(str(exc), file=str(keys))]) from None
    result = svc.audit_ledger(build_ledger_context(), seen, verifiers)
    if result.ok:
        if result.current_note is not None:
            state.write_text(result.current_note, "utf-8")
        console.print(
            f"[green]ok[/]: {result.size} entries re-verified, "
            f"{result.checkpoints_checked} checkpoints matched"
        )
        return
    console.print(f"[bold red]audit failed[/] ({len(result.problems)} problems)")
    for p in result.problems:
        console.print(f"  {p}", highlight=False, soft_wrap=True)
    for t in result.touched:
        console.print(f"  touches entry {t.index} (pack {t.pack}, {t.type}): {t.what}")
    raise typer.Exit(1)


@keys_app.command("list")
def keys_list_cmd() -> None:
    """Registered keys (public halves) with their validity in log indices."""
    table = Table("signer", "org", "roles", "fingerprint", "valid from", "revoked from")
    for k in svc.list_keys(build_ledger_context()):
        table.add_row(
            k.name,
            k.org,
            ",".join(k.roles),
            k.fingerprint[:16],
            str(k.valid_from),
            "" if k.revoked_from is None else str(k.revoked_from),
        )
    console.print(table)


@keys_app.command("init")
def keys_init_cmd() -> None:
    """Create the checkpoint key and a key for every organisation and station without one."""
    made = svc.provision_keys(build_ledger_context())
    console.print(f"created {len(made)} keys")


@keys_app.command("rotate")
def keys_rotate_cmd(
    name: str = typer.Argument(..., help="Signer, e.g. station:changle-s."),
) -> None:
    """Replace a signer's key from the current log size (old entries stay valid)."""
    old, new = svc.rotate_key(build_ledger_context(), name)
    console.print(
        f"{name}: {old.fingerprint[:16]} revoked from {old.revoked_from}; "
        f"{new.fingerprint[:16]} valid from {new.valid_from}"
    )


@keys_app.command("revoke")
def keys_revoke_cmd(
    fingerprint: str = typer.Argument(..., help="Key fingerprint (hex)."),
    from_index: int | None = typer.Option(
        None, "--from-index", help="First log index it may no longer sign (after a compromise)."
    ),
) -> None:
    """Revoke a key (default: from the current log size)."""
    k = svc.revoke_key(build_ledger_context(), fingerprint, from_index)
    console.print(f"{k.name}: {k.fingerprint[:16]} revoked from log index {k.revoked_from}")


@keys_app.command("export")
def keys_export_cmd(
    out: Path | None = typer.Option(None, "--out", help="Write the JSON here."),
) -> None:
    """The public keys offline verifiers trust (origin, checkpoint key, entry keys)."""
    text = svc.trusted_keys(build_ledger_context()).to_json() + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, "utf-8")
        console.print(f"trusted keys -> {out}")
