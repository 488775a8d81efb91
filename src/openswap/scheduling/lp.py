"""A sparse linear programme assembled in named families and solved through OR-Tools MathOpt.

`define_*` functions add a family of variables or rows with numpy arrays; `solve_lp` writes one
MathOpt `ModelProto` and calls MathOpt's proto-level solver (GLOP or HiGHS), which skips the
per-object Python model and keeps a 40-pack station-day well under 0.1 s. Row families keep
their names so that callers can say which constraint family binds (non-zero duals).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from ortools.math_opt import model_pb2, result_pb2
from ortools.math_opt.core.python import solver as mathopt_solver
from ortools.math_opt.python import callback, init_arguments, model_parameters, parameters

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class LpSolver(StrEnum):
    """MathOpt LP back-ends shipped in the OR-Tools wheel."""

    GLOP = "glop"
    HIGHS = "highs"


_SOLVER_TYPE = {
    LpSolver.GLOP: parameters.SolverType.GLOP,
    LpSolver.HIGHS: parameters.SolverType.HIGHS,
}


class LpStatus(StrEnum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    FAILED = "failed"  # solver error, limit reached, or no primal solution


@dataclass(slots=True)
class SparseLp:
    """Columns and rows of a minimisation LP, each family a contiguous index range."""

    lb: list[FloatArray] = field(default_factory=list)
    ub: list[FloatArray] = field(default_factory=list)
    cost: list[FloatArray] = field(default_factory=list)
    row_lb: list[FloatArray] = field(default_factory=list)
    row_ub: list[FloatArray] = field(default_factory=list)
    coef_rows: list[IntArray] = field(default_factory=list)
    coef_cols: list[IntArray] = field(default_factory=list)
    coef_vals: list[FloatArray] = field(default_factory=list)
    n_cols: int = 0
    n_rows: int = 0
    offset: float = 0.0
    extra_cost: list[tuple[IntArray, FloatArray]] = field(default_factory=list)
    column_families: dict[str, tuple[int, int]] = field(default_factory=dict)
    row_families: dict[str, tuple[int, int]] = field(default_factory=dict)

    def add_columns(
        self, name: str, lb: FloatArray, ub: FloatArray, cost: FloatArray | None = None
    ) -> IntArray:
        """Add len(lb) variables; returns their indices."""
        n = len(lb)
        first = self.n_cols
        self.lb.append(np.asarray(lb, dtype=np.float64))
        self.ub.append(np.asarray(ub, dtype=np.float64))
        self.cost.append(np.zeros(n) if cost is None else np.asarray(cost, dtype=np.float64))
        self.n_cols += n
        self.column_families[name] = (first, self.n_cols)
        return np.arange(first, self.n_cols, dtype=np.int64)

    def add_rows(
        self,
        name: str,
        lb: FloatArray,
        ub: FloatArray,
        rows: IntArray,
        cols: IntArray,
        vals: FloatArray,
    ) -> IntArray:
        """Add len(lb) rows lb <= A x <= ub; `rows` index the new rows from 0."""
        n = len(lb)
        first = self.n_rows
        self.row_lb.append(np.asarray(lb, dtype=np.float64))
        self.row_ub.append(np.asarray(ub, dtype=np.float64))
        self.coef_rows.append(np.asarray(rows, dtype=np.int64) + first)
        self.coef_cols.append(np.asarray(cols, dtype=np.int64))
        self.coef_vals.append(np.asarray(vals, dtype=np.float64))
        self.n_rows += n
        self.row_families[name] = (first, self.n_rows)
        return np.arange(first, self.n_rows, dtype=np.int64)

    def add_cost(self, cols: IntArray, vals: FloatArray) -> None:
        """Add `vals` to the objective coefficients of `cols` (duplicates accumulate)."""
        self.extra_cost.append((np.asarray(cols, dtype=np.int64), np.asarray(vals, np.float64)))

    def objective(self) -> FloatArray:
        """The full cost vector: family costs plus every `add_cost`."""
        total = np.concatenate(self.cost) if self.cost else np.zeros(0)
        for cols, vals in self.extra_cost:
            np.add.at(total, cols, vals)
        return total

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        return np.concatenate(self.lb), np.concatenate(self.ub)

    def to_proto(self) -> model_pb2.ModelProto:
        """The MathOpt model (rows sorted row-major, as MathOpt requires)."""
        proto = model_pb2.ModelProto(name="openswap")
        lb, ub = self.bounds()
        ids = list(range(self.n_cols))
        proto.variables.ids.extend(ids)
        proto.variables.lower_bounds.extend(lb.tolist())
        proto.variables.upper_bounds.extend(ub.tolist())
        proto.variables.integers.extend([False] * self.n_cols)
        cost = self.objective()
        nz = np.flatnonzero(cost)
        proto.objective.maximize = False
        proto.objective.offset = self.offset
        proto.objective.linear_coefficients.ids.extend(nz.tolist())
        proto.objective.linear_coefficients.values.extend(cost[nz].tolist())
        proto.linear_constraints.ids.extend(range(self.n_rows))
        proto.linear_constraints.lower_bounds.extend(np.concatenate(self.row_lb).tolist())
        proto.linear_constraints.upper_bounds.extend(np.concatenate(self.row_ub).tolist())
        if self.coef_rows:
            rows = np.concatenate(self.coef_rows)
            cols = np.concatenate(self.coef_cols)
            vals = np.concatenate(self.coef_vals)
            order = np.lexsort((cols, rows))
            matrix = proto.linear_constraint_matrix
            matrix.row_ids.extend(rows[order].tolist())
            matrix.column_ids.extend(cols[order].tolist())
            matrix.coefficients.extend(vals[order].tolist())
        return proto


@dataclass(frozen=True, slots=True)
class LpResult:
    status: LpStatus
    detail: str  # the solver's termination detail, for reasons shown to users
    objective: float
    x: FloatArray  # primal values (empty unless OPTIMAL)
    duals: FloatArray  # row duals (empty unless OPTIMAL and the solver reported them)
    solve_s: float  # wall time of the solver call (model writing excluded)
    write_s: float  # wall time of writing the proto


def solve_lp(lp: SparseLp, solver: LpSolver = LpSolver.GLOP) -> LpResult:
    """Minimise `lp`; never raises on solver trouble: the status says what happened."""
    started = time.perf_counter()
    proto = lp.to_proto()
    written = time.perf_counter()
    threads = 1 if solver is LpSolver.GLOP else None  # HiGHS takes threads only as a global
    params = parameters.SolveParameters(threads=threads).to_proto()
    empty = np.zeros(0)
    try:
        raw = mathopt_solver.solve(
            proto,
            _SOLVER_TYPE[solver].value,
            init_arguments.StreamableSolverInitArguments().to_proto(),
            params,
            model_parameters.ModelSolveParameters().to_proto(),
            None,
            callback.CallbackRegistration().to_proto(),
            None,
            None,
        )
    except Exception as exc:  # the solver's own status errors: reported, never re-raised
        done = time.perf_counter()
        return LpResult(
            LpStatus.FAILED, f"{solver} error: {exc}", np.nan, empty, empty, done - written, 0.0
        )
    done = time.perf_counter()
    return _parse(raw, lp, done - written, written - started)


def _parse(
    raw: result_pb2.SolveResultProto, lp: SparseLp, solve_s: float, write_s: float
) -> LpResult:
    reason = raw.termination.reason
    detail = raw.termination.detail or result_pb2.TerminationReasonProto.Name(reason)
    empty = np.zeros(0)
    if reason in (
        result_pb2.TERMINATION_REASON_INFEASIBLE,
        result_pb2.TERMINATION_REASON_INFEASIBLE_OR_UNBOUNDED,
    ):
        return LpResult(LpStatus.INFEASIBLE, detail, np.nan, empty, empty, solve_s, write_s)
    if reason == result_pb2.TERMINATION_REASON_UNBOUNDED:
        return LpResult(LpStatus.UNBOUNDED, detail, np.nan, empty, empty, solve_s, write_s)
    if reason != result_pb2.TERMINATION_REASON_OPTIMAL or not raw.solutions:
        return LpResult(LpStatus.FAILED, detail, np.nan, empty, empty, solve_s, write_s)
    sol = raw.solutions[0]
    x = np.zeros(lp.n_cols)
    pv = sol.primal_solution.variable_values
    x[np.asarray(pv.ids, dtype=np.int64)] = np.asarray(pv.values, dtype=np.float64)
    duals = np.zeros(lp.n_rows)
    if sol.HasField("dual_solution"):
        dv = sol.dual_solution.dual_values
        duals[np.asarray(dv.ids, dtype=np.int64)] = np.asarray(dv.values, dtype=np.float64)
    objective = sol.primal_solution.objective_value
    return LpResult(LpStatus.OPTIMAL, detail, objective, x, duals, solve_s, write_s)
