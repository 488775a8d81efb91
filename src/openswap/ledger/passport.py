"""Battery passports: one pack's log entries with their inclusion proofs and a signed checkpoint,
the attributes they support (Battery Pass / DIN DKE SPEC 99100 groups), and offline verification.

`build_passport_document` assembles the JSON; `build_attributes` derives the attribute groups from
the entries alone, so `verify_passport` can recompute them from verified entries and refuse a
passport whose summary says more than its entries. Verification needs public keys only
(`TrustedKeys`: the log origin, checkpoint verifier keys and the entry-key registry).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openswap.ledger.admission import (
    KeyRecord,
    KeyRegistry,
    check_pack_history,
    check_signer,
    from_registry_json,
)
from openswap.ledger.checkpoint import verify_checkpoint
from openswap.ledger.entries import (
    Entry,
    PackCharged,
    PackCommissioned,
    PackInspected,
    PackManufactured,
    PackQuarantined,
    PackReceived,
    PackRecycled,
    PackReleased,
    PackRepaired,
    PackRepurposed,
    PackShipped,
    PackSwapped,
    QuarantineReason,
    check_entry_format,
)
from openswap.ledger.merkle import leaf_hash, verify_inclusion

PASSPORT_FORMAT = "openswap-battery-passport/v1"
OVER_TEMPERATURE_C = 60.0
"""A charging session whose hottest cell reached this is listed as an over-temperature event
(the upper operating limit LFP and NMC traction cells share in makers' datasheets)."""
NOT_SUPPORTED = (
    "compliance_labels_and_certifications",
    "carbon_footprint",
    "supply_chain_due_diligence",
)
"""DIN DKE SPEC 99100 groups the log holds no data for (listed, so a reader knows)."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True, slots=True)
class PassportEntry:
    """One log entry of the pack: its index, exact bytes and audit path in the checkpoint."""

    index: int
    data: bytes
    proof: tuple[bytes, ...]


def _ref(index: int, entry: Entry) -> dict[str, Any]:
    return {"index": index, "time": entry.time}


def build_attributes(entries: Sequence[tuple[int, Entry]]) -> dict[str, Any]:
    """The DIN DKE SPEC 99100 attribute groups the entries support, each value with the log
    index of the entry it comes from. Deterministic: the verifier recomputes it."""
    general: dict[str, Any] = {"status": "unknown"}
    materials: dict[str, Any] = {}
    performance: dict[str, Any] = {"soh_history": [], "charging": None}
    negative: dict[str, list[dict[str, Any]]] = {
        "deep_discharge": [],
        "over_temperature": [],
        "quarantines": [],
    }
    swaps: list[dict[str, Any]] = []
    custody: list[dict[str, Any]] = []
    repairs: list[dict[str, Any]] = []
    second_life: list[dict[str, Any]] = []
    end_of_life: dict[str, Any] | None = None
    sessions, energy, hottest = 0, 0.0, None
    for index, e in entries:
        ev = e.event
        ref = _ref(index, e)
        if isinstance(ev, PackManufactured):
            general.update(
                manufacturer=e.org,
                model=ev.model,
                manufacturing_date=ev.manufactured_on,
                manufacturing_place=ev.plant,
                datasheet_hash=ev.datasheet_hash,
                manufactured=ref,
                status="manufactured",
            )
            materials.update(chemistry=str(ev.chemistry), evidence=index)
            performance.update(
                rated_energy_kwh=ev.rated_energy_kwh, nominal_voltage_v=ev.nominal_voltage_v
            )
        elif isinstance(ev, PackCommissioned):
            general.update(
                commissioned={**ref, "owner": ev.owner, "operator": ev.operator},
                owner=ev.owner,
                status="in_service",
            )
        elif isinstance(ev, PackInspected):
            performance["soh_history"].append({**ref, "soh": ev.soh})
            performance.update(
                state_of_health={"value": ev.soh, **ref},
                capacity_fade=round(1.0 - ev.soh, 6),
                cycle_count={"value": ev.cycle_count, **ref},
                insulation_resistance_ohm={"value": ev.insulation_resistance_ohm, **ref},
                max_cell_temp_spread_c={"value": ev.max_cell_temp_spread_c, **ref},
            )
        elif isinstance(ev, PackCharged):
            sessions += 1
            energy += ev.energy_kwh
            hottest = ev.max_cell_temp_c if hottest is None else max(hottest, ev.max_cell_temp_c)
            if ev.max_cell_temp_c >= OVER_TEMPERATURE_C:
                negative["over_temperature"].append(
                    {**ref, "source": "charging", "max_cell_temp_c": ev.max_cell_temp_c}
                )
            if ev.soc_start == 0.0:
                negative["deep_discharge"].append({**ref, "source": "charging", "soc": 0.0})
        elif isinstance(ev, PackQuarantined):
            q = {**ref, "reason": str(ev.reason), "site": ev.site, "released": None}
            negative["quarantines"].append(q)
            if ev.reason is QuarantineReason.DEEP_DISCHARGE:
                negative["deep_discharge"].append({**ref, "source": "quarantine"})
            if ev.reason is QuarantineReason.OVER_TEMPERATURE:
                negative["over_temperature"].append({**ref, "source": "quarantine"})
        elif isinstance(ev, PackReleased):
            open_q = [q for q in negative["quarantines"] if q["released"] is None]
            if open_q:
                open_q[-1]["released"] = ref
        elif isinstance(ev, PackSwapped):
            swaps.append(
                {
                    **ref,
                    "station": ev.station,
                    "swap": ev.swap,
                    "vehicle": ev.vehicle,
                    "direction": str(ev.direction),
                    "soc": ev.soc,
                }
            )
        elif isinstance(ev, PackShipped):
            custody.append(
                {
                    **ref,
                    "event": "shipped",
                    "shipment": ev.shipment,
                    "from": ev.from_site,
                    "to": ev.to_site,
                }
            )
        elif isinstance(ev, PackReceived):
            custody.append({**ref, "event": "received", "shipment": ev.shipment, "site": ev.site})
        elif isinstance(ev, PackRepaired):
            repairs.append(
                {
                    **ref,
                    "repairer": e.org,
                    "work_order": ev.work_order,
                    "modules_replaced": ev.modules_replaced,
                    "report_hash": ev.report_hash,
                }
            )
        elif isinstance(ev, PackRepurposed):
            second_life.append(
                {**ref, "application": str(ev.application), "new_owner": ev.new_owner}
            )
            general.update(owner=ev.new_owner, status="repurposed")
        elif isinstance(ev, PackRecycled):
            end_of_life = {
                **ref,
                "recycler": e.org,
                "facility": ev.facility,
                "certificate_hash": ev.certificate_hash,
            }
            general["status"] = "recycled"
    if sessions:
        performance["charging"] = {
            "sessions": sessions,
            "energy_kwh": round(energy, 6),
            "max_cell_temp_c": hottest,
        }
    rated = performance.get("rated_energy_kwh")
    soh = performance.get("state_of_health")
    if isinstance(rated, float) and isinstance(soh, dict):
        performance["remaining_energy_kwh"] = round(rated * soh["value"], 6)
    return {
        "general_information": general,
        "materials_and_composition": materials,
        "performance_and_durability": {**performance, "negative_events": negative},
        "usage_and_custody": {"swaps": swaps, "custody": custody},
        "circularity": {
            "repairs": repairs,
            "second_life": second_life,
            "end_of_life": end_of_life,
        },
        "not_supported": list(NOT_SUPPORTED),
    }


def key_record_json(record: KeyRecord) -> dict[str, Any]:
    """A key record as the registry JSON writes it."""
    return {
        "public_key": _b64(record.public_key),
        "org": record.org,
        "roles": sorted(record.roles),
        "valid_from": record.valid_from,
        "revoked_from": record.revoked_from,
    }


def build_passport_document(
    serial: str,
    entries: Sequence[PassportEntry],
    checkpoint_note: str,
    keys: Sequence[KeyRecord],
    *,
    generated_at: str,
    datasheet: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The passport JSON of pack `serial`.

    `entries` are the pack's whole chain, oldest first, each proved in the tree of
    `checkpoint_note`; `keys` the public keys that signed them (informational: a verifier uses
    its own trusted copy); `datasheet` the catalog's pack-model data, which the log does not
    attest and which is kept apart under that name.
    """
    decoded: list[tuple[int, Entry]] = []
    for pe in entries:
        entry, reasons = check_entry_format(pe.data)
        if entry is None:
            raise ValueError(f"entry {pe.index} is malformed: {'; '.join(reasons)}")
        decoded.append((pe.index, entry))
    return {
        "format": PASSPORT_FORMAT,
        "serial": serial,
        "generated_at": generated_at,
        "attributes": build_attributes(decoded),
        "datasheet": {"attested": False, **datasheet} if datasheet is not None else None,
        "evidence": {
            "checkpoint": checkpoint_note,
            "entries": [
                {
                    "index": pe.index,
                    "leaf_hash": leaf_hash(pe.data).hex(),
                    "entry": pe.data.decode("utf-8"),
                    "inclusion_proof": [_b64(h) for h in pe.proof],
                }
                for pe in entries
            ],
            "keys": [key_record_json(k) for k in keys],
        },
    }


@dataclass(frozen=True, slots=True)
class TrustedKeys:
    """What an offline verifier trusts: the log origin, the operator's checkpoint verifier
    keys (C2SP vkeys) and the registry of entry-signing keys."""

    origin: str
    checkpoint_verifiers: tuple[str, ...]
    registry: KeyRegistry

    def to_json(self) -> str:
        return json.dumps(
            {
                "origin": self.origin,
                "checkpoint_verifiers": list(self.checkpoint_verifiers),
                "keys": [key_record_json(r) for r in self.registry.records()],
            },
            indent=2,
            sort_keys=True,
        )


def from_trusted_keys_json(text: str) -> TrustedKeys:
    """Parse `TrustedKeys.to_json` output; ValueError on anything malformed."""
    try:
        obj = json.loads(text)
        origin = obj["origin"]
        verifiers = obj["checkpoint_verifiers"]
        keys = obj["keys"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"malformed trusted keys: {exc}") from None
    if not isinstance(origin, str) or not isinstance(verifiers, list):
        raise ValueError("malformed trusted keys: origin or checkpoint_verifiers")
    if not all(isinstance(v, str) for v in verifiers):
        raise ValueError("malformed trusted keys: checkpoint_verifiers must be strings")
    registry = from_registry_json(json.dumps({"keys": keys}))
    return TrustedKeys(origin, tuple(verifiers), registry)


@dataclass(frozen=True, slots=True)
class PassportVerdict:
    """The outcome of `verify_passport`: `ok` when `problems` is empty."""

    serial: str | None
    tree_size: int | None
    entries: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _entry_problems(
    position: int, item: object, serial: str, trusted: TrustedKeys, size: int, root: bytes
) -> tuple[tuple[int, bytes, Entry] | None, list[str]]:
    where = f"entries[{position}]"
    if not isinstance(item, dict):
        return None, [f"{where}: not an object"]
    index, text, proof_b64 = item.get("index"), item.get("entry"), item.get("inclusion_proof")
    if not isinstance(index, int) or isinstance(index, bool) or not isinstance(text, str):
        return None, [f"{where}: index or entry missing"]
    if not isinstance(proof_b64, list) or not all(isinstance(p, str) for p in proof_b64):
        return None, [f"{where}: inclusion_proof must be a list of base64 strings"]
    try:
        proof = [base64.b64decode(p, validate=True) for p in proof_b64]
    except (binascii.Error, ValueError):
        return None, [f"{where}: inclusion_proof is not base64"]
    data = text.encode("utf-8")
    problems: list[str] = []
    leaf = leaf_hash(data)
    if item.get("leaf_hash") not in (None, leaf.hex()):
        problems.append(f"{where} (index {index}): leaf_hash does not match the entry")
    if not verify_inclusion(leaf, index, size, proof, root):
        problems.append(
            f"{where} (index {index}): not included in the checkpoint's tree of {size} entries"
        )
    entry, reasons = check_entry_format(data)
    if entry is None:
        return None, [*problems, *(f"{where} (index {index}): {r}" for r in reasons)]
    if entry.log != trusted.origin:
        problems.append(f"{where} (index {index}): signed for log {entry.log!r}")
    if entry.pack != serial:
        problems.append(f"{where} (index {index}): belongs to pack {entry.pack!r}")
    problems += [
        f"{where} (index {index}): {r}" for r in check_signer(entry, index, trusted.registry)
    ]
    return (index, data, entry), problems


def verify_passport(doc: Mapping[str, Any], trusted: TrustedKeys) -> PassportVerdict:
    """Check a passport offline: the checkpoint's signature (by a trusted verifier key, for the
    trusted origin), every entry's inclusion in that checkpoint's tree, its format, signer
    (registered, active at its index, of a role that may write it) and signature, the pack's
    hash chain (no gap, no fork), and that the attributes are exactly what the entries say."""
    serial = doc.get("serial")
    if doc.get("format") != PASSPORT_FORMAT:
        return PassportVerdict(None, None, 0, (f"not a {PASSPORT_FORMAT} document",))
    if not isinstance(serial, str):
        return PassportVerdict(None, None, 0, ("serial is missing",))
    evidence = doc.get("evidence")
    if not isinstance(evidence, dict) or not isinstance(evidence.get("entries"), list):
        return PassportVerdict(serial, None, 0, ("evidence.entries is missing",))
    note = evidence.get("checkpoint")
    if not isinstance(note, str):
        return PassportVerdict(serial, None, 0, ("evidence.checkpoint is missing",))
    try:
        cp = verify_checkpoint(note, list(trusted.checkpoint_verifiers), trusted.origin)
    except ValueError as exc:
        return PassportVerdict(serial, None, 0, (f"checkpoint: {exc}",))
    problems: list[str] = []
    good: list[tuple[int, bytes, Entry]] = []
    items = evidence["entries"]
    for position, item in enumerate(items):
        decoded, why = _entry_problems(position, item, serial, trusted, cp.size, cp.root)
        problems += why
        if decoded is not None:
            good.append(decoded)
    if not items:
        problems.append("the passport holds no entries")
    indices = [i for i, _, _ in good]
    if indices != sorted(set(indices)):
        problems.append("entries are not in strictly increasing log order")
    if len(good) == len(items):
        problems += [f"chain: {r}" for r in check_pack_history([d for _, d, _ in good])]
        expected = build_attributes([(i, e) for i, _, e in good])
        if json.loads(json.dumps(expected)) != doc.get("attributes"):
            problems.append("attributes differ from what the verified entries say")
    return PassportVerdict(serial, cp.size, len(items), tuple(problems))
