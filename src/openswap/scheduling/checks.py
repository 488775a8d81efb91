"""Solver-independent checks of a station's charging plan against the snapshot it answers.

`check_plan` is what every policy's plans must pass (in tests, and at run time in the MPC
scheduler before a plan leaves it); `charge_at_once_plan` is the always-feasible plan a scheduler
falls back to.
"""

from __future__ import annotations

import math

from openswap.domain.planning import ChargingPlan, StationSnapshot

_REL = 1e-9  # the station's own relative tolerance on plan checks
_ABS = 1e-9


def check_plan(snapshot: StationSnapshot, plan: ChargingPlan, *, strict: bool = False) -> list[str]:
    """Reasons `plan` is not a valid answer to `snapshot`; empty when it is.

    Always: one setpoint per slot, a validity in the future, non-negative finite setpoints,
    charger limits, and the sum within the grid cap. With `strict`, also what the physics says
    about the packs now: no setpoint above what the pack accepts (CC-CV taper) and nothing for
    a full pack (energy bound). The protocol allows both (the station draws the lesser), so
    rule baselines pass only the default check; the LP's plans pass the strict one.
    """
    reasons: list[str] = []
    n = snapshot.slot_count
    setpoints = plan.setpoints_kw
    if len(setpoints) != n:
        return [f"plan has {len(setpoints)} setpoints, the station has {n} slots"]
    if not plan.valid_until_s > snapshot.time_s:
        reasons.append(f"valid until {plan.valid_until_s} is not after now ({snapshot.time_s})")
    for i, sp in enumerate(setpoints):
        limit = snapshot.slot_max_power_kw[i]
        if not math.isfinite(sp) or sp < 0.0:
            reasons.append(f"non-negativity: slot {i} setpoint {sp!r} kW")
            continue
        if sp > limit * (1 + _REL) + _ABS:
            reasons.append(f"charger limit: slot {i} set to {sp:.3f} kW > {limit:.3f} kW")
        if not strict or snapshot.slot_pack_model[i] < 0:
            continue
        energy, capacity = snapshot.slot_energy_kwh[i], snapshot.slot_capacity_kwh[i]
        if energy >= capacity and sp > _ABS:
            reasons.append(f"energy bound: slot {i}'s pack is full, set to {sp:.3f} kW")
        elif sp > snapshot.slot_accept_kw[i] * (1 + _REL) + _ABS:
            reasons.append(
                f"taper: slot {i} set to {sp:.3f} kW, the pack accepts "
                f"{snapshot.slot_accept_kw[i]:.3f} kW at SoC {energy / capacity:.3f}"
            )
    total = math.fsum(sp for sp in setpoints if math.isfinite(sp))
    if total > snapshot.grid_cap_kw * (1 + _REL) + _ABS:
        reasons.append(f"grid cap: {total:.3f} kW planned > {snapshot.grid_cap_kw:.3f} kW")
    return reasons


def charge_at_once_plan(snapshot: StationSnapshot, valid_until_s: float) -> ChargingPlan:
    """Every pack at what it accepts now, the grid cap shared in equal shares (water-filling).
    Passes `check_plan(strict=True)` by construction."""
    demand = [
        a if m >= 0 else 0.0
        for a, m in zip(snapshot.slot_accept_kw, snapshot.slot_pack_model, strict=True)
    ]
    cap = snapshot.grid_cap_kw
    out = [0.0] * len(demand)
    if math.fsum(demand) <= cap:
        out = list(demand)
    else:
        remaining = cap
        order = sorted(range(len(demand)), key=lambda i: demand[i])
        for rank, i in enumerate(order):
            give = min(demand[i], remaining / (len(order) - rank))
            out[i] = give
            remaining -= give
        excess = math.fsum(out) - cap
        if excess > 0.0:
            j = max(range(len(out)), key=lambda i: out[i])
            out[j] = max(0.0, out[j] - excess)
    return ChargingPlan(tuple(out), valid_until_s)
