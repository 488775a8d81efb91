"""Ledger use cases: the outbox relay, signing keys, checkpoints, proofs, passports and audits.

`relay_outbox` feeds the operations outbox into the log exactly once: in ONE transaction it reads
the unpublished events in order, maps each to ledger entries, signs them with the submitting
party's key (a station's or an organisation's, sealed in the `KeyStore`), runs admission,
appends, and marks the events published with a relay record each. A crash anywhere before the
commit leaves everything as it was; after it, nothing is left to redo. Format and key custody:
docs/design/ledger.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openswap.domain.errors import (
    ConcurrencyConflict,
    ConflictError,
    InputError,
    NotFoundError,
    Problem,
)
from openswap.ledger import merkle
from openswap.ledger.admission import (
    WRITERS,
    KeyRecord,
    KeyRegistry,
    PackHead,
    check_entry,
)
from openswap.ledger.audit import AuditReport, audit_store, check_checkpoint_consistency
from openswap.ledger.checkpoint import (
    Checkpoint,
    NoteSigner,
    build_checkpoint,
    build_signer,
    from_skey,
    sign_checkpoint,
    verify_checkpoint,
)
from openswap.ledger.entries import (
    LifecycleEvent,
    PackCharged,
    PackCommissioned,
    PackInspected,
    PackQuarantined,
    PackReceived,
    PackReleased,
    PackShipped,
    PackSwapped,
    QuarantineReason,
    Role,
    SwapDirection,
    build_entry,
    check_entry_format,
    entry_leaf_hash,
    key_fingerprint,
)
from openswap.ledger.log import MerkleLog
from openswap.ledger.passport import (
    PassportEntry,
    TrustedKeys,
    build_passport_document,
)
from openswap.services.model import (
    LedgerKey,
    OrgRole,
    OutboxEvent,
    PublishedCheckpoint,
    RelayRecord,
    RelayStatus,
)
from openswap.services.operations import PackEvent
from openswap.services.ports import Clock, LedgerUnitOfWork, LedgerUnitOfWorkFactory
from openswap.services.system import SystemClock

R = TypeVar("R")

DEFAULT_ORIGIN = "ledger.openswap.example/demo"
PLATFORM_ORG = "openswap-platform"
CHECKPOINT_SECRET = "ledger/checkpoint-signer"
MAX_RANGE = 1000  # entries per read
ORG_ROLES: dict[OrgRole, Role] = {
    OrgRole.OPERATOR: Role.OPERATOR,
    OrgRole.FLEET: Role.FLEET,
    OrgRole.BATTERY_OWNER: Role.OWNER,
    OrgRole.MAKER: Role.MAKER,
    OrgRole.REPAIRER: Role.REPAIRER,
    OrgRole.RECYCLER: Role.RECYCLER,
}
"""Ledger roles of operations organisations (regulators read the log; they do not write it)."""


@dataclass(frozen=True, slots=True)
class LedgerContext:
    """What the ledger use cases need: ledger units of work, the clock, the log's origin (the
    checkpoint key's name too) and the platform organisation that signs when no site party
    can (e.g. a pack quarantined while in a vehicle)."""

    uow: LedgerUnitOfWorkFactory
    clock: Clock = field(default_factory=SystemClock)
    origin: str = DEFAULT_ORIGIN
    platform_org: str = PLATFORM_ORG
    max_attempts: int = 4


def _transact(lctx: LedgerContext, body: Callable[[LedgerUnitOfWork], R]) -> R:
    """Run `body` in one ledger unit of work and commit, retrying lost races."""
    for attempt in range(lctx.max_attempts):
        try:
            with lctx.uow() as uow:
                result = body(uow)
                uow.commit()
                return result
        except ConcurrencyConflict:
            if attempt == lctx.max_attempts - 1:
                raise
            time.sleep(0.002 * (attempt + 1))
    raise AssertionError("unreachable")


def station_signer(station_id: str) -> str:
    """The signer name of a station's device key."""
    return f"station:{station_id}"


def org_signer(org_id: str) -> str:
    """The signer name of an organisation's key."""
    return f"org:{org_id}"


def _entry_secret(fingerprint: str) -> str:
    return f"ledger/entry-key/{fingerprint}"


def _registry(keys: Sequence[LedgerKey]) -> KeyRegistry:
    return KeyRegistry(
        KeyRecord(
            k.public_key, k.org, frozenset(Role(r) for r in k.roles), k.valid_from, k.revoked_from
        )
        for k in keys
    )


# --- keys ------------------------------------------------------------------------------------


def _checkpoint_signer(uow: LedgerUnitOfWork, origin: str, *, create: bool) -> NoteSigner:
    raw = uow.secrets.get(CHECKPOINT_SECRET)
    if raw:
        return from_skey(raw.decode("ascii"))
    if not create:
        raise ConflictError("the log operator has no checkpoint key: run `ledger keys init`")
    signer = build_signer(origin)
    uow.secrets.put(CHECKPOINT_SECRET, signer.to_skey().encode("ascii"))
    return signer


def _new_key(
    uow: LedgerUnitOfWork, name: str, org: str, roles: Sequence[Role], at: datetime
) -> LedgerKey:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    fp = key_fingerprint(public)
    uow.secrets.put(_entry_secret(fp), private.private_bytes_raw())
    key = LedgerKey(
        fingerprint=fp,
        name=name,
        org=org,
        roles=tuple(sorted(str(r) for r in roles)),
        public_key=public,
        valid_from=uow.log_store.size(),
        revoked_from=None,
        created_at=at,
    )
    uow.ledger_keys.add(key)
    return key


def _active(keys: Sequence[LedgerKey], name: str) -> list[LedgerKey]:
    return [k for k in keys if k.name == name and k.revoked_from is None]


def provision_keys(lctx: LedgerContext) -> list[LedgerKey]:
    """Create the missing keys: the log operator's checkpoint key, one key per organisation
    with a writing role, one per station (its operator's organisation, role station) and the
    platform's (role operator). Returns the keys it created. Private halves are sealed in the
    `KeyStore`; only public keys enter the registry, and nothing secret reaches the log."""

    def body(uow: LedgerUnitOfWork) -> list[LedgerKey]:
        now = lctx.clock.now()
        _checkpoint_signer(uow, lctx.origin, create=True)
        have = uow.ledger_keys.all()
        wanted: list[tuple[str, str, list[Role]]] = [
            (org_signer(lctx.platform_org), lctx.platform_org, [Role.OPERATOR])
        ]
        for org in uow.organisations.find():
            roles = sorted({ORG_ROLES[r] for r in org.roles if r in ORG_ROLES})
            if roles:
                wanted.append((org_signer(org.id), org.id, roles))
        for st in uow.stations.find():
            wanted.append((station_signer(st.id), st.operator_org_id, [Role.STATION]))
        made = []
        for name, org_id, roles in wanted:
            if not _active(have, name):
                made.append(_new_key(uow, name, org_id, roles, now))
        return made

    return _transact(lctx, body)


def list_keys(lctx: LedgerContext) -> list[LedgerKey]:
    """Every registered entry key, active and revoked (public halves only)."""
    return _transact(lctx, lambda uow: uow.ledger_keys.all())


def rotate_key(lctx: LedgerContext, name: str) -> tuple[LedgerKey, LedgerKey]:
    """Replace the active key of signer `name`: the new key is valid from the current log size
    and the old one revoked from the same index, so every entry it signed stays valid. Its
    sealed private half is wiped. Returns (old, new)."""

    def body(uow: LedgerUnitOfWork) -> tuple[LedgerKey, LedgerKey]:
        active = _active(uow.ledger_keys.all(), name)
        if not active:
            raise NotFoundError("active ledger key", name)
        old = active[0]
        new = _new_key(uow, name, old.org, [Role(r) for r in old.roles], lctx.clock.now())
        uow.ledger_keys.set_revoked_from(old.fingerprint, new.valid_from)
        uow.secrets.put(_entry_secret(old.fingerprint), b"")
        return _revoked(old, new.valid_from), new

    return _transact(lctx, body)


def _revoked(key: LedgerKey, at: int) -> LedgerKey:
    return LedgerKey(
        key.fingerprint,
        key.name,
        key.org,
        key.roles,
        key.public_key,
        key.valid_from,
        at,
        key.created_at,
    )


def revoke_key(lctx: LedgerContext, fingerprint: str, from_index: int | None = None) -> LedgerKey:
    """Revoke a key from log index `from_index` (default: the current size; an earlier index
    after a compromise). Revocation never moves later. Its sealed private half is wiped."""

    def body(uow: LedgerUnitOfWork) -> LedgerKey:
        key = next((k for k in uow.ledger_keys.all() if k.fingerprint == fingerprint), None)
        if key is None:
            raise NotFoundError("ledger key", fingerprint)
        at = uow.log_store.size() if from_index is None else from_index
        if at < 0:
            raise InputError([Problem("must be >= 0", field="from_index")])
        at = max(at, key.valid_from)
        if key.revoked_from is not None:
            at = min(at, key.revoked_from)
        uow.ledger_keys.set_revoked_from(fingerprint, at)
        uow.secrets.put(_entry_secret(fingerprint), b"")
        return _revoked(key, at)

    return _transact(lctx, body)


def trusted_keys(lctx: LedgerContext) -> TrustedKeys:
    """The public keys offline verifiers need (`verify-passport --keys`): the log's origin, the
    checkpoint verifier key and the entry-key registry. Publish it out of band as well: a
    verifier should not take it from the party it checks."""

    def body(uow: LedgerUnitOfWork) -> TrustedKeys:
        signer = _checkpoint_signer(uow, lctx.origin, create=False)
        return TrustedKeys(
            lctx.origin, (signer.verifier.to_vkey(),), _registry(uow.ledger_keys.all())
        )

    return _transact(lctx, body)


# --- mapping outbox events to ledger events ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Planned:
    """One ledger event to write, and who may sign it, most specific signer first."""

    event: LifecycleEvent
    signers: tuple[str, ...]


class _UnmappableError(Exception):
    """The outbox event cannot become a ledger entry (the message says why)."""


_REASON_WORDS = (
    (("temp", "thermal", "overheat", "hot"), QuarantineReason.OVER_TEMPERATURE),
    (("insulation", "isolation"), QuarantineReason.INSULATION_FAULT),
    (("deep discharge", "deep_discharge", "over-discharge", "overdischarge"), None),
    (("imbalance", "unbalanced", "cell_voltage", "cell_drift"), QuarantineReason.CELL_IMBALANCE),
    (("damage", "crash", "impact", "dent"), QuarantineReason.MECHANICAL_DAMAGE),
    (("bms",), QuarantineReason.BMS_FAULT),
    (("recall",), QuarantineReason.RECALL),
)


def quarantine_reason(text: str) -> QuarantineReason:
    """The reason code for an operator's free-text quarantine reason (the text itself stays off
    the log): an exact code, else the first matching keyword, else `other`."""
    t = text.strip().lower()
    for member in QuarantineReason:
        if t == member.value:
            return member
    for words, reason in _REASON_WORDS:
        if any(w in t for w in words):
            return QuarantineReason.DEEP_DISCHARGE if reason is None else reason
    return QuarantineReason.OTHER


class _Sites:
    """Where a custody dict puts a pack, who runs that site, and who may sign there."""

    def __init__(self, uow: LedgerUnitOfWork, platform: str) -> None:
        self.uow = uow
        self.platform = org_signer(platform)

    def station_org(self, station_id: str) -> str | None:
        st = self.uow.stations.get(station_id)
        return None if st is None else st.operator_org_id

    def site(self, custody: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
        """(site id, signers) of a custody dict (`Custody.to_dict`)."""
        kind = custody.get("kind")
        if kind in ("slot", "bay") and isinstance(custody.get("station_id"), str):
            sid = custody["station_id"]
            org = self.station_org(sid)
            signers = [station_signer(sid)] + ([org_signer(org)] if org else [])
            return sid, (*signers, self.platform)
        if kind == "warehouse" and isinstance(custody.get("warehouse_id"), str):
            wid = custody["warehouse_id"]
            wh = self.uow.warehouses.get(wid)
            return wid, ((org_signer(wh.org_id),) if wh else ()) + (self.platform,)
        if kind == "shipment" and isinstance(custody.get("shipment_id"), str):
            return custody["shipment_id"], (self.platform,)
        if kind == "vehicle" and isinstance(custody.get("vehicle_id"), str):
            return custody["vehicle_id"], (self.platform,)
        raise _UnmappableError(f"custody {custody!r} names no site")

    def destination(self, shipment_id: str) -> str:
        shipment = self.uow.shipments.get(shipment_id)
        if shipment is None:
            raise _UnmappableError(f"shipment {shipment_id} is not stored")
        dest = shipment.destination_station_id or shipment.destination_warehouse_id
        if dest is None:
            raise _UnmappableError(f"shipment {shipment_id} has no destination")
        return dest


def _field(payload: dict[str, Any], name: str) -> Any:
    if name not in payload:
        raise _UnmappableError(f"payload has no {name!r}")
    return payload[name]


def _inspection(payload: dict[str, Any]) -> PackInspected | None:
    names = ("soh", "insulation_resistance_ohm", "max_cell_temp_spread_c", "cycle_count")
    if not all(payload.get(n) is not None for n in names):
        return None
    return PackInspected(
        soh=float(payload["soh"]),
        insulation_resistance_ohm=float(payload["insulation_resistance_ohm"]),
        max_cell_temp_spread_c=float(payload["max_cell_temp_spread_c"]),
        cycle_count=int(payload["cycle_count"]),
        report_hash=payload.get("report_hash"),
    )


def plan_entries(
    uow: LedgerUnitOfWork, ev: OutboxEvent, has_history: bool, platform: str
) -> list[_Planned]:
    """The ledger events an outbox event becomes (empty: nothing to record), with signers.

    A pack without history first gets `PackCommissioned` (packs already in service open their
    chain at commissioning). Raises `_UnmappableError` when the payload lacks what the entry needs.
    """
    sites = _Sites(uow, platform)
    p = ev.payload
    plan: list[_Planned] = []
    kind = ev.event_type
    if kind == PackEvent.REGISTERED:
        to = _field(p, "to")
        site, signers = sites.site(to)
        operator = sites.station_org(site) if to.get("kind") == "slot" else None
        if not has_history:
            owner = str(_field(p, "owner"))
            plan.append(
                _Planned(
                    PackCommissioned(owner=owner, operator=operator),
                    (*signers[:-1], org_signer(owner), signers[-1]),
                )
            )
        inspected = _inspection(p)
        if inspected is not None:
            plan.append(_Planned(inspected, signers))
        return _opened(uow, ev, plan, has_history, platform)
    if kind == PackEvent.SWAPPED:
        frm, to = _field(p, "from"), _field(p, "to")
        into = _field(p, "direction") == "into_vehicle"
        rack, car = (frm, to) if into else (to, frm)
        station, signers = sites.site(rack)
        vehicle = car.get("vehicle_id")
        if not isinstance(vehicle, str):
            raise _UnmappableError("swap payload names no vehicle")
        event: LifecycleEvent = PackSwapped(
            station=station,
            swap=str(_field(p, "swap_id")),
            vehicle=vehicle,
            direction=SwapDirection.INSTALLED if into else SwapDirection.REMOVED,
            soc=float(_field(p, "soc")),
        )
        plan.append(_Planned(event, signers))
    elif kind == PackEvent.SHIPPED:
        frm, to = _field(p, "from"), _field(p, "to")
        site, signers = sites.site(frm)
        shipment = str(_field(to, "shipment_id"))
        plan.append(_Planned(PackShipped(shipment, site, sites.destination(shipment)), signers))
    elif kind == PackEvent.RECEIVED:
        frm, to = _field(p, "from"), _field(p, "to")
        site, signers = sites.site(to)
        plan.append(_Planned(PackReceived(str(_field(frm, "shipment_id")), site), signers))
    elif kind == PackEvent.QUARANTINED:
        site, signers = sites.site(_field(p, "custody"))
        reason = quarantine_reason(str(_field(p, "reason")))
        plan.append(_Planned(PackQuarantined(reason, site), signers))
    elif kind == PackEvent.RELEASED:
        site, signers = sites.site(_field(p, "custody"))
        plan.append(_Planned(PackReleased(site), signers))
    elif kind == PackCharged.TYPE:
        station = str(_field(p, "station_id"))
        _, signers = sites.site({"kind": "slot", "station_id": station})
        charged = PackCharged(
            station=station,
            session=str(_field(p, "session_id")),
            energy_kwh=float(_field(p, "energy_kwh")),
            duration_s=float(_field(p, "duration_s")),
            max_power_kw=float(_field(p, "max_power_kw")),
            soc_start=float(_field(p, "soc_start")),
            soc_end=float(_field(p, "soc_end")),
            max_cell_temp_c=float(_field(p, "max_cell_temp_c")),
        )
        plan.append(_Planned(charged, signers))
    elif kind == PackInspected.TYPE:
        inspected = _inspection(p)
        if inspected is None:
            raise _UnmappableError(
                "inspection payload lacks soh, insulation, spread or cycle count"
            )
        custody = p.get("custody")
        signers = sites.site(custody)[1] if isinstance(custody, dict) else (sites.platform,)
        plan.append(_Planned(inspected, signers))
    else:
        # PackMoved (within one site) and PackRetired (the recycler or repurposer writes the
        # end of first life) have no ledger event; unknown types are skipped, not guessed.
        return []
    return _opened(uow, ev, plan, has_history, platform)


def _opened(
    uow: LedgerUnitOfWork,
    ev: OutboxEvent,
    plan: list[_Planned],
    has_history: bool,
    platform: str,
) -> list[_Planned]:
    """`plan`, preceded by a commissioning entry when the pack has no chain yet."""
    if has_history or not plan or isinstance(plan[0].event, PackCommissioned):
        return plan
    rec = uow.packs.get(ev.pack_serial or "")
    if rec is None:
        raise _UnmappableError(f"pack {ev.pack_serial} has no chain and is not stored")
    opening = _Planned(
        PackCommissioned(owner=rec.pack.owner), (org_signer(platform), org_signer(rec.pack.owner))
    )
    return [opening, *plan]


# --- the relay -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RelayReport:
    """What one relay run did: outbox events appended, skipped and rejected, entries added."""

    events: int
    appended: int
    skipped: int
    rejected: int
    entries: int
    first_index: int | None
    rejections: tuple[RelayRecord, ...] = ()


class _Signers:
    """Private keys of active signers, loaded once per relay transaction."""

    def __init__(self, uow: LedgerUnitOfWork, keys: Sequence[LedgerKey]) -> None:
        self.uow = uow
        self.keys = keys
        self.cache: dict[str, Ed25519PrivateKey | None] = {}

    def pick(
        self, names: Sequence[str], event_type: str, index: int
    ) -> tuple[LedgerKey, Ed25519PrivateKey] | None:
        allowed = {str(r) for r in WRITERS.get(event_type, frozenset())}
        for name in names:
            for key in self.keys:
                if key.name != name or not allowed & set(key.roles):
                    continue
                if not key.valid_from <= index or (
                    key.revoked_from is not None and index >= key.revoked_from
                ):
                    continue
                private = self._private(key.fingerprint)
                if private is not None:
                    return key, private
        return None

    def _private(self, fingerprint: str) -> Ed25519PrivateKey | None:
        if fingerprint not in self.cache:
            raw = self.uow.secrets.get(_entry_secret(fingerprint))
            self.cache[fingerprint] = (
                Ed25519PrivateKey.from_private_bytes(raw) if raw and len(raw) == 32 else None
            )
        return self.cache[fingerprint]


FaultHook = Callable[[str], None]
"""Called at the relay's steps ("read", "appended", "marked", "committed"); tests raise in it
to simulate a crash at that point."""


def relay_outbox(
    lctx: LedgerContext, limit: int = 1000, fault: FaultHook | None = None
) -> RelayReport:
    """Feed up to `limit` unpublished outbox events into the log, exactly once (module
    docstring). Each event becomes its entries (`appended`), nothing (`skipped`), or, when
    mapping, signing or admission refuses it, nothing but a `rejected` record with every reason;
    rejected events are marked published too, so one bad event does not stall the log
    (`requeue_rejected` puts them back after the cause is fixed, e.g. a key rotated)."""
    hook = fault or (lambda _step: None)

    def body(uow: LedgerUnitOfWork) -> RelayReport:
        events = uow.outbox.unpublished(limit)
        hook("read")
        if not events:
            return RelayReport(0, 0, 0, 0, 0, None)
        now = lctx.clock.now()
        keys = uow.ledger_keys.all()
        registry = _registry(keys)
        signers = _Signers(uow, keys)
        log = MerkleLog(uow.log_store)
        start = log.size
        pending: dict[str, PackHead] = {}
        accepted: list[bytes] = []
        records: list[RelayRecord] = []
        for ev in events:
            seq = ev.seq if ev.seq is not None else -1
            pack = ev.pack_serial
            if pack is None:
                records.append(
                    RelayRecord(seq, ev.event_id, RelayStatus.SKIPPED, None, 0, ("no pack",), now)
                )
                continue
            head = pending.get(pack) or uow.chain_heads.head(pack)
            try:
                plan = plan_entries(uow, ev, head is not None, lctx.platform_org)
            except (_UnmappableError, ValueError, TypeError) as exc:
                records.append(
                    RelayRecord(seq, ev.event_id, RelayStatus.REJECTED, None, 0, (str(exc),), now)
                )
                continue
            if not plan:
                none = (f"{ev.event_type} has no ledger event",)
                records.append(
                    RelayRecord(seq, ev.event_id, RelayStatus.SKIPPED, None, 0, none, now)
                )
                continue
            mine: list[bytes] = []
            ev_head = head
            reasons: list[str] = []
            for planned in plan:
                index = start + len(accepted) + len(mine)
                picked = signers.pick(planned.signers, planned.event.TYPE, index)
                if picked is None:
                    reasons.append(
                        f"{planned.event.TYPE}: no active key of {', '.join(planned.signers)} "
                        "may write it"
                    )
                    break
                key, private = picked
                try:
                    data = build_entry(
                        planned.event,
                        log=lctx.origin,
                        pack=pack,
                        org=key.org,
                        time=ev.occurred_at,
                        prev=None if ev_head is None else ev_head.leaf_hash,
                        private_key=private,
                    )
                except InputError as exc:
                    reasons += [str(p) for p in exc.problems]
                    break
                entry, why = check_entry(data, index, lctx.origin, registry, ev_head)
                if entry is None:
                    reasons += why
                    break
                mine.append(data)
                ev_head = PackHead(index, entry_leaf_hash(data), entry.type)
            if reasons:
                records.append(
                    RelayRecord(
                        seq, ev.event_id, RelayStatus.REJECTED, None, 0, tuple(reasons), now
                    )
                )
                continue
            first = start + len(accepted)
            accepted += mine
            assert ev_head is not None
            pending[pack] = ev_head
            records.append(
                RelayRecord(seq, ev.event_id, RelayStatus.APPENDED, first, len(mine), (), now)
            )
        if accepted:
            log.append(accepted)
            for pack, head in pending.items():
                uow.chain_heads.advance(pack, head)
        hook("appended")
        uow.outbox.mark_published([r.outbox_seq for r in records], now)
        uow.relay.add(records)
        hook("marked")
        rejected = tuple(r for r in records if r.status is RelayStatus.REJECTED)
        return RelayReport(
            events=len(events),
            appended=sum(r.status is RelayStatus.APPENDED for r in records),
            skipped=sum(r.status is RelayStatus.SKIPPED for r in records),
            rejected=len(rejected),
            entries=len(accepted),
            first_index=start if accepted else None,
            rejections=rejected,
        )

    report = _transact(lctx, body)
    hook("committed")
    return report


def relay_all(lctx: LedgerContext, batch: int = 1000) -> RelayReport:
    """Relay until the outbox is drained; the totals of every batch (each its own transaction)."""
    total = RelayReport(0, 0, 0, 0, 0, None)
    while True:
        r = relay_outbox(lctx, batch)
        if r.events == 0:
            return total
        total = RelayReport(
            total.events + r.events,
            total.appended + r.appended,
            total.skipped + r.skipped,
            total.rejected + r.rejected,
            total.entries + r.entries,
            total.first_index if total.first_index is not None else r.first_index,
            total.rejections + r.rejections,
        )


def requeue_rejected(lctx: LedgerContext) -> int:
    """Put rejected outbox events back in the relay's queue; returns how many."""
    return _transact(lctx, lambda uow: uow.relay.requeue_rejected())


def rejected_events(lctx: LedgerContext, limit: int = 1000) -> list[RelayRecord]:
    return _transact(lctx, lambda uow: uow.relay.find(RelayStatus.REJECTED, limit))


# --- checkpoints and proofs ------------------------------------------------------------------


def _publish(uow: LedgerUnitOfWork, lctx: LedgerContext) -> PublishedCheckpoint:
    latest = uow.checkpoints.latest()
    size = uow.log_store.size()
    if latest is not None and latest.size == size:
        return latest
    root = MerkleLog(uow.log_store).root(size)
    signer = _checkpoint_signer(uow, lctx.origin, create=False)
    note = sign_checkpoint(build_checkpoint(lctx.origin, size, root), signer)
    return uow.checkpoints.add(size, root, note, lctx.clock.now())


def publish_checkpoint(lctx: LedgerContext) -> PublishedCheckpoint:
    """Sign and publish a checkpoint of the current tree with the log operator's key (the
    latest one again when the log has not grown since)."""
    return _transact(lctx, lambda uow: _publish(uow, lctx))


def latest_checkpoint(lctx: LedgerContext) -> PublishedCheckpoint:
    """The newest published checkpoint; `NotFoundError` before the first."""

    def body(uow: LedgerUnitOfWork) -> PublishedCheckpoint:
        cp = uow.checkpoints.latest()
        if cp is None:
            raise NotFoundError("checkpoint", "latest")
        return cp

    return _transact(lctx, body)


@dataclass(frozen=True, slots=True)
class LogEntry:
    index: int
    leaf_hash: bytes
    data: bytes


def read_entries(lctx: LedgerContext, start: int, end: int) -> list[LogEntry]:
    """Entries `[start, end)`, at most `MAX_RANGE`; `InputError` outside the log."""

    def body(uow: LedgerUnitOfWork) -> list[LogEntry]:
        size = uow.log_store.size()
        if not 0 <= start < end <= size or end - start > MAX_RANGE:
            raise InputError(
                [
                    Problem(
                        f"need 0 <= start < end <= {size} and at most {MAX_RANGE} entries",
                        field="start,end",
                    )
                ]
            )
        data = uow.log_store.read_entries(start, end)
        hashes = uow.log_store.read_hashes(0, start, end)
        return [
            LogEntry(start + i, h, d) for i, (d, h) in enumerate(zip(data, hashes, strict=True))
        ]

    return _transact(lctx, body)


@dataclass(frozen=True, slots=True)
class InclusionProof:
    index: int
    tree_size: int
    leaf_hash: bytes
    proof: tuple[bytes, ...]


def inclusion_proof(
    lctx: LedgerContext,
    *,
    index: int | None = None,
    leaf_hash: bytes | None = None,
    size: int | None = None,
) -> InclusionProof:
    """The audit path of an entry (by `index` or by `leaf_hash`) in the tree of `size`
    entries (default: the latest checkpoint's size, else the current size)."""
    if (index is None) == (leaf_hash is None):
        raise InputError([Problem("give exactly one of index and leaf_hash", field="index")])

    def body(uow: LedgerUnitOfWork) -> InclusionProof:
        store = uow.log_store
        current = store.size()
        latest = uow.checkpoints.latest()
        tree = size if size is not None else (latest.size if latest else current)
        at = index
        if leaf_hash is not None:
            at = store.leaf_index(leaf_hash)
            if at is None:
                raise NotFoundError("entry with leaf hash", leaf_hash.hex())
        assert at is not None
        if not 0 <= at < tree <= current:
            raise InputError(
                [Problem(f"need 0 <= index ({at}) < size ({tree}) <= {current}", field="size")]
            )
        proof = MerkleLog(store).inclusion_proof(at, tree)
        return InclusionProof(at, tree, store.read_nodes([(0, at)])[0], tuple(proof))

    return _transact(lctx, body)


def consistency_proof(lctx: LedgerContext, first: int, second: int) -> tuple[bytes, ...]:
    """The RFC 9162 consistency proof from tree size `first` to `second`."""

    def body(uow: LedgerUnitOfWork) -> tuple[bytes, ...]:
        current = uow.log_store.size()
        if not 0 <= first <= second <= current:
            raise InputError(
                [Problem(f"need 0 <= first <= second <= {current}", field="first,second")]
            )
        return tuple(MerkleLog(uow.log_store).consistency_proof(first, second))

    return _transact(lctx, body)


# --- passports -------------------------------------------------------------------------------


def _pack_chain(uow: LedgerUnitOfWork, serial: str) -> list[tuple[int, bytes]]:
    """The pack's entries, oldest first, by walking `prev` back from its chain head."""
    head = uow.chain_heads.head(serial)
    if head is None:
        return []
    store = uow.log_store
    out: list[tuple[int, bytes]] = []
    at: int | None = head.index
    while at is not None:
        data = store.read_entries(at, at + 1)[0]
        out.append((at, data))
        obj = json.loads(data)
        prev = obj.get("prev")
        if prev is None:
            break
        at = store.leaf_index(bytes.fromhex(prev))
        if at is None or at >= out[-1][0]:
            raise ConflictError(f"pack {serial}: the chain breaks at entry {out[-1][0]}")
    out.reverse()
    return out


def build_passport(lctx: LedgerContext, serial: str) -> dict[str, Any]:
    """The battery passport JSON of pack `serial` (see `ledger.passport`): every entry of its
    chain with an inclusion proof in a signed checkpoint (a new checkpoint is published when
    the latest one does not cover the pack's newest entry), the public keys that signed them,
    and the catalog's datasheet of its model, marked as not attested by the log."""

    def body(uow: LedgerUnitOfWork) -> dict[str, Any]:
        chain = _pack_chain(uow, serial)
        if not chain:
            raise NotFoundError("pack on the ledger", serial)
        cp = uow.checkpoints.latest()
        if cp is None or cp.size <= chain[-1][0]:
            cp = _publish(uow, lctx)
        log = MerkleLog(uow.log_store)
        entries = [
            PassportEntry(i, data, tuple(log.inclusion_proof(i, cp.size))) for i, data in chain
        ]
        registry = _registry(uow.ledger_keys.all())
        signed_by = {json.loads(d)["key"] for _, d in chain}
        keys = [r for r in registry.records() if r.fingerprint in signed_by]
        rec = uow.packs.get(serial)
        datasheet = None
        if rec is not None:
            m = rec.pack.model
            datasheet = {
                "source": "catalog",
                "pack_model": m.id,
                "maker": m.maker,
                "name": m.name,
                "chemistry": str(m.chemistry),
                "cell_format": m.cell_format,
                "usable_energy_kwh": m.usable_energy_kwh,
                "nominal_voltage_v": m.nominal_voltage_v,
                "mass_kg": m.mass_kg,
                "cycle_life": m.cycle_life,
            }
        generated = lctx.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        return build_passport_document(
            serial, entries, cp.note, keys, generated_at=generated, datasheet=datasheet
        )

    return _transact(lctx, body)


# --- auditing --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TouchedEntry:
    """An entry a changed byte touches: its index, pack and type (when still readable)."""

    index: int
    pack: str | None
    type: str | None
    what: str


@dataclass(frozen=True, slots=True)
class LedgerAudit:
    """An audit's findings; `current_note` is the checkpoint to remember for the next audit."""

    size: int
    problems: tuple[str, ...]
    touched: tuple[TouchedEntry, ...]
    checkpoints_checked: int
    current_note: str | None

    @property
    def ok(self) -> bool:
        return not self.problems


def _describe_entry(data: bytes) -> tuple[str | None, str | None]:
    entry, _ = check_entry_format(data)
    if entry is not None:
        return entry.pack, entry.type
    try:
        obj = json.loads(data)
    except ValueError:
        return None, None
    if not isinstance(obj, dict):
        return None, None
    pack, kind = obj.get("pack"), obj.get("type")
    return (pack if isinstance(pack, str) else None, kind if isinstance(kind, str) else None)


def audit_ledger(
    lctx: LedgerContext, seen_note: str | None = None, verifiers: Sequence[str] = ()
) -> LedgerAudit:
    """Re-verify the stored tree (every entry against its leaf hash, every node against its
    children, the root at every published checkpoint), check each published checkpoint's
    signature, and check that the newest checkpoint is consistent with `seen_note`, the last
    one this auditor saw (kept by the auditor, outside the database it audits). `verifiers`
    are the trusted checkpoint keys (default: the operator's own, for a self-audit)."""

    def body(uow: LedgerUnitOfWork) -> LedgerAudit:
        store = uow.log_store
        vkeys = list(verifiers) or [
            _checkpoint_signer(uow, lctx.origin, create=False).verifier.to_vkey()
        ]
        problems: list[str] = []
        cps: list[Checkpoint] = []
        published = uow.checkpoints.all()
        for pc in published:
            try:
                cps.append(verify_checkpoint(pc.note, vkeys, lctx.origin))
            except ValueError as exc:
                problems.append(f"published checkpoint #{pc.id} (size {pc.size}): {exc}")
        try:
            report: AuditReport = audit_store(store, cps)
        except IndexError as exc:  # rows deleted under the tree: it cannot even be read
            problems.append(f"the stored tree is incomplete: {exc}")
            return LedgerAudit(store.size(), tuple(problems), (), len(cps), None)
        problems += report.problems
        touched: list[TouchedEntry] = []
        for level, idx in report.changed:
            first = idx << level
            if first >= report.size:
                continue
            pack, kind = _describe_entry(store.read_entries(first, first + 1)[0])
            what = (
                "entry bytes or its leaf hash changed"
                if level == 0
                else f"node ({level}, {idx}) over entries [{first}, {(idx + 1) << level}) changed"
            )
            touched.append(TouchedEntry(first, pack, kind, what))
        current = cps[-1] if cps else None
        if seen_note is not None:
            try:
                seen = verify_checkpoint(seen_note, vkeys, lctx.origin)
            except ValueError as exc:
                problems.append(f"the remembered checkpoint does not verify: {exc}")
            else:
                if current is None:
                    problems.append("no checkpoint is published, but one was seen before")
                elif seen.size > report.size:
                    problems.append(
                        f"log shrank: a checkpoint of {seen.size} entries was seen, "
                        f"{report.size} are stored"
                    )
                else:
                    try:
                        proof = merkle.build_consistency_proof(store, seen.size, current.size)
                        seen_root = merkle.build_root(store, seen.size)
                    except (IndexError, ValueError) as exc:
                        problems.append(f"cannot prove consistency with the store: {exc}")
                        proof, seen_root = [], seen.root
                    problems += check_checkpoint_consistency(seen, current, proof)
                    if seen_root != seen.root:
                        problems.append(
                            f"the stored tree's root at size {seen.size} is not the one "
                            "in the remembered checkpoint"
                        )
        note = published[-1].note if published and cps else None
        return LedgerAudit(report.size, tuple(problems), tuple(touched), len(cps), note)

    return _transact(lctx, body)
