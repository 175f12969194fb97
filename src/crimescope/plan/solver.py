"""Choosing places under a budget and constraints: the exact integer program and the greedy ranking.

The problem (one binary ``x_i`` per candidate place ``i``)::

    maximise   sum_i v_i x_i                         (expected harm covered)
    subject to sum_i c_i x_i <= B                    (budget: places, area or hours)
               lo_g <= sum_{i in g} c_i x_i <= hi_g  (every group bound: district quotas, equity caps)
               x_i + x_j <= 1                        (every conflicting pair: closer than the spacing)
               x_i = 0                               (excluded places)

``v_i >= 0`` is the expected harm of place ``i``, ``c_i > 0`` its cost in budget
units (1 per place, its area, or its patrol hours). Group bounds are stated in the
same units as the budget.

Two planners solve it, both registered in :data:`PLANNERS` and held to the same
contract by ``tests/plan/test_planner_conformance.py``:

* ``ip``: the integer program solved exactly by HiGHS (``highspy``), stopped at a
  relative gap of ``mip_rel_gap`` (default 1e-6) or at ``time_limit`` seconds; the
  solution states HiGHS's dual bound and the gap to it.
* ``greedy``: the ranking practice. Places in decreasing ``v_i / c_i``; first each
  group with a lower bound takes its best places until the bound is met, then the
  rest of the budget goes down the citywide ranking; a place is skipped when it
  would break any bound or conflict. The solution states the gap to the linear
  relaxation's bound (solved by HiGHS), an upper bound on its distance from the optimum.

A request that cannot be met (quotas over the budget, a district minimum above what
its places can hold, caps below the quotas) raises :class:`ParameterError` naming the
numbers; nothing is guessed.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import ParameterError

__all__ = ["GroupBound", "PlanProblem", "Solution", "PLANNERS", "solve", "solve_ip", "solve_greedy",
           "lp_bound", "check_solution"]

_EPS = 1e-9


@dataclass(frozen=True)
class GroupBound:
    """``lo <= sum of cost over members chosen <= hi`` for one named group of places.

    ``kind`` says why the bound exists (``"district"``, ``"equity"``, ...) and ``label``
    which group it is (a district number, a community area); ``members`` are place indexes.
    """

    kind: str
    label: str
    members: np.ndarray
    lo: float = 0.0
    hi: float = math.inf


@dataclass
class PlanProblem:
    """The data of one planning problem (see the module docstring for the program).

    Attributes
    ----------
    value : ndarray, shape (n,)
        Expected harm of each candidate place (>= 0).
    cost : ndarray, shape (n,)
        Budget units each place uses (> 0).
    budget : float
        Budget in the same units.
    bounds : list of GroupBound
    conflicts : ndarray of int, shape (m, 2)
        Pairs of places that may not both be chosen (spacing).
    excluded : ndarray of bool, shape (n,)
        Places left out.
    """

    value: np.ndarray
    cost: np.ndarray
    budget: float
    bounds: list = field(default_factory=list)
    conflicts: np.ndarray = field(default_factory=lambda: np.empty((0, 2), np.int64))
    excluded: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.value = np.asarray(self.value, dtype=np.float64)
        n = self.value.size
        if self.value.ndim != 1 or not np.all(np.isfinite(self.value)) or np.any(self.value < 0):
            raise ParameterError("invalid place values: expected finite non-negative expected harm per place")
        self.cost = np.broadcast_to(np.asarray(self.cost, dtype=np.float64), (n,)).copy()
        if not np.all(np.isfinite(self.cost)) or np.any(self.cost <= 0):
            raise ParameterError("invalid place costs: expected a positive finite cost per place")
        b = float(self.budget)
        if not math.isfinite(b) or b <= 0:
            raise ParameterError(f"invalid budget={self.budget!r}: expected a positive number")
        self.budget = b
        self.excluded = (np.zeros(n, bool) if self.excluded is None
                         else np.asarray(self.excluded, dtype=bool).reshape(n))
        c = np.asarray(self.conflicts, dtype=np.int64).reshape(-1, 2)
        if c.size and (c.min() < 0 or c.max() >= n):
            raise ParameterError("invalid conflicts: place indexes out of range")
        c = c[c[:, 0] != c[:, 1]]
        self.conflicts = np.unique(np.sort(c, axis=1), axis=0) if c.size else np.empty((0, 2), np.int64)
        out = []
        for g in self.bounds:
            m = np.unique(np.asarray(g.members, dtype=np.int64))
            if m.size and (m.min() < 0 or m.max() >= n):
                raise ParameterError(f"invalid {g.kind} {g.label}: member indexes out of range")
            if g.lo > g.hi + _EPS:
                raise ParameterError(f"infeasible request: {g.kind} {g.label} minimum {g.lo:g} "
                                     f"is above its maximum {g.hi:g}")
            out.append(GroupBound(g.kind, str(g.label), m, float(g.lo), float(g.hi)))
        self.bounds = out
        self._tighten()

    def _tighten(self) -> None:
        """With one cost for every place, round bounds to whole places: the same integer plans, and
        the constraint matrix (two partitions and the budget row) then has integral LP vertices."""
        if self.n == 0 or not np.all(self.cost == self.cost[0]):
            return
        c = float(self.cost[0])
        self.budget = math.floor(self.budget / c + 1e-9) * c
        self.bounds = [GroupBound(g.kind, g.label, g.members, math.ceil(g.lo / c - 1e-9) * c,
                                  math.floor(g.hi / c + 1e-9) * c if math.isfinite(g.hi) else g.hi)
                       for g in self.bounds]
        for g in self.bounds:
            if g.lo > g.hi + _EPS:
                raise ParameterError(f"infeasible request: {g.kind} {g.label} needs at least {g.lo:g} but may "
                                     f"have at most {g.hi:g} (in whole places)")

    @property
    def n(self) -> int:
        return int(self.value.size)

    def check_feasible(self) -> None:
        """Raise ParameterError for requests that are infeasible on their face, with the numbers."""
        lo = [g for g in self.bounds if g.lo > _EPS]
        by_kind: dict[str, float] = {}
        members: dict[str, list] = {}
        for g in lo:
            by_kind[g.kind] = by_kind.get(g.kind, 0.0) + g.lo
            members.setdefault(g.kind, []).append(g.members)
        for kind, total in by_kind.items():
            m = np.concatenate(members[kind])
            if np.unique(m).size != m.size:  # overlapping groups: the sum of minimums says nothing
                continue
            if total > self.budget + _EPS:
                raise ParameterError(f"infeasible request: the {kind} minimums add up to {total:g}, "
                                     f"more than the budget of {self.budget:g}")
        avail = ~self.excluded
        for g in lo:
            can = float(self.cost[g.members][avail[g.members]].sum())
            if can + _EPS < g.lo:
                raise ParameterError(f"infeasible request: {g.kind} {g.label} needs at least {g.lo:g} but its "
                                     f"places not excluded hold only {can:g}")


@dataclass
class Solution:
    """A chosen set of places and how good it is.

    Attributes
    ----------
    chosen : ndarray of int
        Indexes of the chosen places, increasing.
    objective : float
        Expected harm covered (sum of their values).
    bound : float
        An upper bound on the best objective of the problem (HiGHS's dual bound for
        ``ip``, the linear relaxation for ``greedy``).
    gap : float
        ``(bound - objective) / bound`` (0 when both are 0): how far from optimal at most.
    planner : str
    status : str
        ``optimal``, ``time_limit`` (ip stopped with a feasible plan), ``feasible`` (greedy).
    seconds : float
        Solve time (wall clock).
    candidates : int
        Places the solver was given after :func:`reduce_problem` (all places for greedy).
    """

    chosen: np.ndarray
    objective: float
    bound: float
    gap: float
    planner: str
    status: str
    seconds: float
    candidates: int = -1

    @property
    def proven_optimal(self) -> bool:
        return self.gap <= 1e-6


def _gap(obj: float, bound: float) -> float:
    if bound <= _EPS:
        return 0.0
    return max(0.0, (bound - obj) / bound)


# --------------------------------------------------------------------- HiGHS
_BANNER_LOCK = threading.Lock()
_BANNER_DONE = False


def _highs():
    """A silent ``highspy.Highs`` (the first one of a process prints a banner on fd 1: swallowed)."""
    global _BANNER_DONE
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - declared in the [plan] extra
        raise ParameterError("the integer-program planner needs highspy: pip install 'crimescope[plan]'") from exc
    with _BANNER_LOCK:
        if not _BANNER_DONE:
            sys.stdout.flush()
            saved = os.dup(1)
            try:
                with open(os.devnull, "wb") as null:
                    os.dup2(null.fileno(), 1)
                    h = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            _BANNER_DONE = True
        else:
            h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    return h


def _model(p: PlanProblem, integer: bool):
    """The problem as a HighsModel (maximise), column-wise sparse."""
    import highspy
    import scipy.sparse as sp

    n = p.n
    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0
    rows.append(np.zeros(n, np.int64))
    cols.append(np.arange(n))
    vals.append(p.cost)
    lo.append(-highspy.kHighsInf)
    hi.append(p.budget)
    r = 1
    for g in p.bounds:
        if g.members.size == 0:
            if g.lo > _EPS:  # a minimum over places none of which can be chosen
                raise ParameterError(_infeasible_message(p))
            continue
        rows.append(np.full(g.members.size, r, np.int64))
        cols.append(g.members)
        vals.append(p.cost[g.members])
        lo.append(g.lo if g.lo > _EPS else -highspy.kHighsInf)
        hi.append(g.hi if math.isfinite(g.hi) else highspy.kHighsInf)
        r += 1
    m = p.conflicts.shape[0]
    if m:
        rr = r + np.arange(m)
        rows += [rr, rr]
        cols += [p.conflicts[:, 0], p.conflicts[:, 1]]
        vals += [np.ones(m), np.ones(m)]
        lo += [-highspy.kHighsInf] * m
        hi += [1.0] * m
        r += m
    a = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, n))
    a.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = r
    lp.col_cost_ = p.value
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.where(p.excluded, 0.0, 1.0)
    lp.row_lower_ = np.asarray(lo, dtype=np.float64)
    lp.row_upper_ = np.asarray(hi, dtype=np.float64)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    model = highspy.HighsModel()
    model.lp_ = lp
    return model


def _infeasible_message(p: PlanProblem) -> str:
    kinds = sorted({g.kind for g in p.bounds})
    what = ", ".join(kinds) if kinds else "budget"
    extra = " and the spacing" if p.conflicts.size else ""
    need = {}
    room = {}
    for g in p.bounds:
        need[g.kind] = need.get(g.kind, 0.0) + g.lo
        room[g.kind] = room.get(g.kind, 0.0) + min(g.hi, float(p.cost[g.members].sum()))
    sums = "; ".join(f"{k} minimums need {need[k]:g}, maximums allow {room[k]:g}" for k in kinds)
    return (f"infeasible request: no set of places meets the budget of {p.budget:g} together with the "
            f"{what} bounds{extra} ({sums}); loosen the quotas or caps, or raise the budget")


def reduce_problem(p: PlanProblem) -> tuple[PlanProblem, np.ndarray]:
    """An equivalent smaller problem: ``(sub, keep)`` with ``keep`` the original index of each sub place.

    Places in the same *class* (the same groups and the same cost) are interchangeable
    for every constraint but spacing, so some optimal plan uses only the best few of
    each class: without conflicts the best ``K`` where ``K`` is the most places of that
    class any plan can hold (``floor`` of the budget and of every group maximum over the
    cost); with conflicts the best ``N (D + 1) + 1``, ``N`` the most places the budget
    holds and ``D`` the largest number of conflicts of a place (a better place of the
    class that is neither chosen nor next to a chosen one always exists among them,
    and swapping it in keeps every constraint). Excluded places are dropped.
    """
    n = p.n
    avail = ~p.excluded
    member = np.zeros((n, max(len(p.bounds), 1)), dtype=bool)
    for k, g in enumerate(p.bounds):
        member[g.members, k] = True
    packed = np.packbits(member, axis=1)
    cost_key = np.unique(p.cost, return_inverse=True)[1].reshape(-1, 1).astype(np.int64)
    key = np.hstack([packed.astype(np.int64), cost_key])
    _, cls = np.unique(key, axis=0, return_inverse=True)
    cls = cls.ravel()
    n_max = int(math.floor(p.budget / float(p.cost[avail].min()) + 1e-9)) if avail.any() else 0
    if p.conflicts.size:
        deg = np.bincount(p.conflicts.ravel(), minlength=n)
        room_all = n_max * (int(deg.max()) + 1) + 1
    his = np.array([g.hi for g in p.bounds] or [math.inf])
    keep = np.zeros(n, bool)
    order = np.lexsort((np.arange(n), -p.value, cls))
    starts = np.r_[0, np.flatnonzero(np.diff(cls[order])) + 1, n]
    for a, b in zip(starts[:-1], starts[1:]):
        idx = order[a:b]
        idx = idx[avail[idx]]
        if idx.size == 0:
            continue
        if p.conflicts.size:
            k = room_all
        else:
            c = float(p.cost[idx[0]])
            lim = p.budget
            row = member[idx[0]]
            if p.bounds and row.any():
                lim = min(lim, float(his[row[: his.size]].min()))
            k = int(math.floor(lim / c + 1e-9)) if math.isfinite(lim) else idx.size
        keep[idx[:k]] = True
    keep_idx = np.flatnonzero(keep)
    pos = np.full(n, -1, np.int64)
    pos[keep_idx] = np.arange(keep_idx.size)
    bounds = [GroupBound(g.kind, g.label, pos[g.members][pos[g.members] >= 0], g.lo, g.hi) for g in p.bounds]
    conf = p.conflicts
    if conf.size:
        both = keep[conf[:, 0]] & keep[conf[:, 1]]
        conf = pos[conf[both]]
    sub = PlanProblem.__new__(PlanProblem)
    sub.value, sub.cost, sub.budget = p.value[keep_idx], p.cost[keep_idx], p.budget
    sub.bounds, sub.conflicts, sub.excluded = bounds, conf.reshape(-1, 2), np.zeros(keep_idx.size, bool)
    return sub, keep_idx


def lp_bound(p: PlanProblem) -> float:
    """The optimum of the linear relaxation (an upper bound on any plan's expected harm)."""
    import highspy

    h = _highs()
    p, _ = reduce_problem(p)  # same integer optimum, so its relaxation still bounds every plan
    if p.n == 0:
        return 0.0
    h.passModel(_model(p, integer=False))
    h.run()
    st = h.getModelStatus()
    if st == highspy.HighsModelStatus.kInfeasible:
        raise ParameterError(_infeasible_message(p))
    if st != highspy.HighsModelStatus.kOptimal:  # pragma: no cover - bounded LP
        raise ParameterError(f"the relaxation could not be solved: {h.modelStatusToString(st)}")
    return float(h.getInfo().objective_function_value)


def solve_ip(p: PlanProblem, *, time_limit: float = 60.0, mip_rel_gap: float = 1e-6) -> Solution:
    """The integer program solved by HiGHS (branch and cut), with its dual bound and gap."""
    import highspy

    p.check_feasible()
    t0 = time.perf_counter()
    h = _highs()
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    full = p
    p, keep = reduce_problem(full)
    if p.n == 0:  # nothing fits (a budget below one place): the empty plan, if no minimum is set
        if any(g.lo > _EPS for g in full.bounds):
            raise ParameterError(_infeasible_message(full))
        return Solution(chosen=np.empty(0, np.int64), objective=0.0, bound=0.0, gap=0.0, planner="ip",
                        status="optimal", seconds=time.perf_counter() - t0, candidates=0)
    h.passModel(_model(p, integer=True))
    h.run()
    st = h.getModelStatus()
    secs = time.perf_counter() - t0
    info = h.getInfo()
    S = highspy.HighsModelStatus
    if st == S.kInfeasible:
        raise ParameterError(_infeasible_message(p))
    has_sol = info.primal_solution_status == highspy.kSolutionStatusFeasible
    if st not in (S.kOptimal,) and not has_sol:
        raise ParameterError(f"the integer program found no plan within {time_limit:g} s "
                             f"({h.modelStatusToString(st)}); use --solver greedy or a longer time limit")
    x = np.asarray(h.getSolution().col_value)
    chosen = keep[np.flatnonzero(x > 0.5)]
    obj = float(full.value[chosen].sum())
    bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else obj
    bound = max(bound, obj)
    status = "optimal" if st == S.kOptimal else "time_limit"
    return Solution(chosen=chosen, objective=obj, bound=bound, gap=_gap(obj, bound), planner="ip",
                    status=status, seconds=secs, candidates=int(keep.size))


# -------------------------------------------------------------------- greedy
def solve_greedy(p: PlanProblem, *, with_bound: bool = True) -> Solution:
    """The greedy ranking with the same constraints (see the module docstring); its gap is to the LP bound."""
    p.check_feasible()
    t0 = time.perf_counter()
    n = p.n
    order = np.lexsort((np.arange(n), -(p.value / p.cost)))
    order = order[~p.excluded[order]]
    # the bounds each place is in
    memb: list[list[int]] = [[] for _ in range(n)]
    for k, g in enumerate(p.bounds):
        for i in g.members.tolist():
            memb[i].append(k)
    used = np.zeros(len(p.bounds))
    hi = np.array([g.hi for g in p.bounds], dtype=float)
    lo = np.array([g.lo for g in p.bounds], dtype=float)
    nbrs: dict[int, list[int]] = {}
    for a, b in p.conflicts.tolist():
        nbrs.setdefault(a, []).append(b)
        nbrs.setdefault(b, []).append(a)
    taken = np.zeros(n, bool)
    spent = 0.0

    def can_take(i: int) -> bool:
        c = p.cost[i]
        if taken[i] or spent + c > p.budget + _EPS:
            return False
        if any(used[k] + c > hi[k] + _EPS for k in memb[i]):
            return False
        return not any(taken[j] for j in nbrs.get(i, ()))

    def take(i: int) -> None:
        nonlocal spent
        taken[i] = True
        spent += p.cost[i]
        for k in memb[i]:
            used[k] += p.cost[i]

    # 1. lower bounds first, each group down its own ranking
    rank_pos = np.empty(n, np.int64)
    rank_pos[order] = np.arange(order.size)
    for k in np.argsort(-lo, kind="stable"):
        if lo[k] <= _EPS:
            continue
        g = p.bounds[k]
        mem = g.members[~p.excluded[g.members]]
        for i in mem[np.argsort(rank_pos[mem], kind="stable")].tolist():
            if used[k] >= lo[k] - _EPS:
                break
            if can_take(i):
                take(i)
    # 2. the rest of the budget down the citywide ranking, keeping room for unmet minimums
    for i in order.tolist():
        if spent >= p.budget - _EPS:
            break
        if can_take(i):
            c = p.cost[i]
            unmet_all = float(np.maximum(lo - used, 0.0).sum()) if lo.size else 0.0
            mine = sum(max(lo[k] - used[k], 0.0) for k in memb[i])
            if spent + c + (unmet_all - mine) > p.budget + _EPS:
                continue
            take(i)
    unmet = [p.bounds[k] for k in range(len(lo)) if used[k] < lo[k] - _EPS]
    if unmet:
        g = unmet[0]
        raise ParameterError(f"the greedy ranking could not meet {g.kind} {g.label} minimum {g.lo:g} "
                             f"(conflicts or caps block it); use the ip planner")
    chosen = np.flatnonzero(taken)
    obj = float(p.value[chosen].sum())
    secs = time.perf_counter() - t0
    bound = max(lp_bound(p), obj) if with_bound else math.nan
    return Solution(chosen=chosen, objective=obj, bound=bound, gap=_gap(obj, bound) if with_bound else math.nan,
                    planner="greedy", status="feasible", seconds=secs, candidates=n)


#: the planners, by name: each takes a PlanProblem and keyword settings, returns a Solution
PLANNERS: dict[str, Callable[..., Solution]] = {"ip": solve_ip, "greedy": solve_greedy}


def solve(p: PlanProblem, planner: str = "ip", **kw: Any) -> Solution:
    """Solve ``p`` with the planner called ``planner`` (``ip`` or ``greedy``)."""
    if planner not in PLANNERS:
        raise ParameterError(f"invalid planner={planner!r}: expected one of {sorted(PLANNERS)}")
    return PLANNERS[planner](p, **kw)


def check_solution(p: PlanProblem, chosen: Sequence[int]) -> list[str]:
    """Every constraint ``chosen`` breaks, as readable lines (empty when the plan is valid)."""
    ch = np.asarray(chosen, dtype=np.int64)
    x = np.zeros(p.n, bool)
    x[ch] = True
    out = []
    spent = float(p.cost[x].sum())
    if spent > p.budget + 1e-6:
        out.append(f"budget {spent:g} > {p.budget:g}")
    if np.any(x & p.excluded):
        out.append(f"excluded places chosen: {np.flatnonzero(x & p.excluded).tolist()}")
    for g in p.bounds:
        s = float(p.cost[g.members][x[g.members]].sum())
        if s < g.lo - 1e-6 or s > g.hi + 1e-6:
            out.append(f"{g.kind} {g.label}: {s:g} outside [{g.lo:g}, {g.hi:g}]")
    if p.conflicts.size:
        bad = x[p.conflicts[:, 0]] & x[p.conflicts[:, 1]]
        if bad.any():
            out.append(f"{int(bad.sum())} pairs closer than the spacing")
    return out
