"""A deployment plan: which places, how much each district gets, and when to be there.

:func:`plan_places` turns a per-cell expected-harm surface into a plan under a budget
and constraints; :func:`make_plan` does the whole request from records (forecast the
mix, build the places, plan, add the hours). The result is a :class:`Plan`.

Constraints (all optional, combined):

* ``quotas``: per police district, in budget units. ``"proportional"``: each district
  gets its share of the total expected harm of the candidate places, rounded down and up
  (``floor(share * B) <= district <= ceil(share * B)`` places for place and hour budgets;
  ``share * B`` plus or minus one largest place for area budgets). ``"LO-HI"``: every
  district between LO and HI budget units; ``"11:2-6,15:1-4"``: those districts only.
* ``equity_cap`` ``m``: no community area receives more than ``m`` times its share of
  victimisation (located records of the mix's categories in the ``history_days`` before
  ``as_of``, by the record's community area), i.e. ``sum over its places <= m * share * B``.
* ``spacing``: no two chosen places closer than this many feet (point to point).
* ``exclude``: place ids, ``district:N`` or ``community_area:N`` left out.

The cost of each constraint in expected harm is reported (``Plan.constraint_costs``):
the same planner is run with the constraints added one at a time (spacing, then
quotas, then the equity cap), and each step's loss of expected harm is its cost.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..errors import ParameterError
from .harm import HarmWeights, event_weights, harm_forecast, parse_weights
from .places import Places, build_places
from .solver import GroupBound, PlanProblem, Solution, check_solution, solve

__all__ = ["Budget", "parse_budget", "parse_quotas", "Plan", "plan_places", "make_plan", "victim_shares",
           "RESPONSIBLE_USE", "SQFT_PER_SQMI"]

SQFT_PER_SQMI = 5280.0 ** 2
#: the most spacing conflicts (pairs of places too close) a plan may carry (memory and solve time)
MAX_CONFLICTS = 1_000_000

RESPONSIBLE_USE = ("Place-based only: this plan names places and hours, never people. Expected harm is a "
                   "forecast from past recorded crime, which reflects where crime was reported and where police "
                   "looked; extra presence in a place is not a judgement of the people who live there. Check the "
                   "community-area shares against victimisation before use, and judge the plan by harm to "
                   "victims, not by stops or arrests.")


# ------------------------------------------------------------------- budget
@dataclass(frozen=True)
class Budget:
    """A budget: ``amount`` of ``kind`` (``places``, ``area`` in sq ft, ``hours`` of patrol a week).

    ``hours_per_place`` is the weekly presence given to each chosen place (hour budgets
    and the visit schedule); ``text`` is the budget as the user wrote it.
    """

    kind: str
    amount: float
    hours_per_place: float = 1.0
    text: str = ""

    def costs(self, places: Places) -> np.ndarray:
        if self.kind == "places":
            return np.ones(places.n)
        if self.kind == "area":
            return np.maximum(places.area, 1.0)
        return np.full(places.n, self.hours_per_place)

    @property
    def unit(self) -> str:
        return {"places": "places", "area": "sq ft", "hours": "patrol hours a week"}[self.kind]

    def describe(self) -> str:
        if self.kind == "area":
            return f"{self.amount / SQFT_PER_SQMI:.3g} sq mi ({self.text})"
        if self.kind == "hours":
            return f"{self.amount:g} patrol hours a week, {self.hours_per_place:g} h per place"
        return f"{self.amount:g} places"


_BUDGET_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(places?|sqmi|sq ?mi|%|h|hours?)?\s*$", re.I)


def parse_budget(spec: Any, *, city_area: float | None = None, hours_per_place: float = 1.0) -> Budget:
    """``"40"``/``"40places"``, ``"0.5sqmi"``, ``"1%"`` (of ``city_area`` sq ft) or ``"120h"``."""
    if isinstance(spec, Budget):
        return spec
    if not (isinstance(hours_per_place, (int, float)) and math.isfinite(hours_per_place) and hours_per_place > 0):
        raise ParameterError(f"invalid hours_per_place={hours_per_place!r}: expected a positive number of hours")
    m = _BUDGET_RE.match(str(spec))
    if not m or float(m.group(1)) <= 0:
        raise ParameterError(f"invalid budget={spec!r}: expected places ('40'), an area ('0.5sqmi', '1%' of the "
                             "city) or patrol hours a week ('120h')")
    v = float(m.group(1))
    unit = (m.group(2) or "places").lower().replace(" ", "")
    if unit.startswith("place"):
        if v != int(v):
            raise ParameterError(f"invalid budget={spec!r}: a number of places must be whole")
        return Budget("places", v, hours_per_place, str(spec))
    if unit == "%":
        if city_area is None:
            raise ParameterError("invalid budget: a % of the city needs the city's area")
        if v > 100:
            raise ParameterError(f"invalid budget={spec!r}: expected at most 100%")
        return Budget("area", v / 100.0 * city_area, hours_per_place, str(spec))
    if unit in ("sqmi",):
        return Budget("area", v * SQFT_PER_SQMI, hours_per_place, str(spec))
    return Budget("hours", v, hours_per_place, str(spec))


# ------------------------------------------------------------------- quotas
_Q_ALL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?|inf)\s*$", re.I)
_Q_ONE = re.compile(r"^\s*(\d+)\s*:\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?|inf)\s*$", re.I)


def parse_quotas(spec: Any) -> Any:
    """``None``/``"none"``, ``"proportional"``, ``(lo, hi)`` for every district, or ``{district: (lo, hi)}``."""
    if spec is None or isinstance(spec, (dict, tuple)):
        return spec
    s = str(spec).strip().lower()
    if s in ("", "none", "off"):
        return None
    if s in ("proportional", "prop"):
        return "proportional"
    m = _Q_ALL.match(s)
    if m:
        return (float(m.group(1)), float(m.group(2)))
    out = {}
    for part in s.split(","):
        m = _Q_ONE.match(part)
        if not m:
            raise ParameterError(f"invalid quotas={spec!r}: expected 'proportional', 'LO-HI' for every district "
                                 "or 'DISTRICT:LO-HI,...' such as '11:2-6,15:1-4'")
        out[str(int(m.group(1)))] = (float(m.group(2)), float(m.group(3)))
    return out


def _district_bounds(quotas: Any, places: Places, value: np.ndarray, cost: np.ndarray, budget: Budget,
                     avail: np.ndarray) -> list[GroupBound]:
    q = parse_quotas(quotas)
    if q is None:
        return []
    dist = places.district
    codes = sorted({d for d in dist if d}, key=lambda c: (len(c), c))
    out = []
    if q == "proportional":
        tot = float(value[avail & (dist != "")].sum())
        if tot <= 0:
            raise ParameterError("proportional quotas need some expected harm in the districts: the forecast is 0")
        unit = float(cost.max()) if budget.kind == "area" else float(cost[0])
        for d in codes:
            mem = np.flatnonzero(dist == d)
            share = float(value[mem][avail[mem]].sum()) / tot
            target = share * budget.amount
            if budget.kind == "area":
                lo, hi = max(0.0, target - unit), target + unit
            else:
                n_places = budget.amount / unit
                lo, hi = math.floor(share * n_places + 1e-9) * unit, math.ceil(share * n_places - 1e-9) * unit
            out.append(GroupBound("district", d, mem, lo, hi))
        return out
    items = {d: q for d in codes} if isinstance(q, tuple) else q
    for d, (lo, hi) in items.items():
        if d not in codes:
            raise ParameterError(f"invalid quotas: district {d} has no candidate place (districts: {', '.join(codes)})")
        scale = SQFT_PER_SQMI if budget.kind == "area" else 1.0
        out.append(GroupBound("district", d, np.flatnonzero(dist == d), lo * scale, hi * scale))
    return out


def victim_shares(events, as_of: Any, history_days: float, categories: Sequence[str]) -> dict:
    """Share of the located records of ``categories`` in ``[as_of - history_days, as_of)`` per community area.

    Keys are community area numbers (int); a record without a community area code is not counted.
    """
    import pandas as pd

    from ..forecast.base import parse_time

    cut = pd.Timestamp(parse_time(as_of))
    t0 = cut - pd.Timedelta(days=float(history_days))
    ev = events[(events["occurred_local"] >= t0) & (events["occurred_local"] < cut)
                & events["category"].isin(list(categories))]
    ev = ev.drop_duplicates("id") if "id" in ev.columns else ev
    ca = pd.to_numeric(ev["community_area"], errors="coerce").dropna().astype(int)
    ca = ca[ca > 0]
    if ca.empty:
        raise ParameterError(f"no located records of {', '.join(categories)} in the {history_days:g} days before "
                             f"{cut.date()}: victimisation shares (for the equity cap) cannot be computed")
    counts = ca.value_counts()
    return {int(k): float(v) / float(counts.sum()) for k, v in counts.items()}


def _equity_bounds(cap: float | None, places: Places, shares: dict, budget: Budget) -> list[GroupBound]:
    if cap is None:
        return []
    if not (isinstance(cap, (int, float)) and math.isfinite(cap) and cap > 0):
        raise ParameterError(f"invalid equity_cap={cap!r}: expected a positive multiple such as 1.5")
    out = []
    for a in sorted(set(int(c) for c in places.community_area if c > 0)):
        out.append(GroupBound("equity", str(a), np.flatnonzero(places.community_area == a),
                              0.0, float(cap) * shares.get(a, 0.0) * budget.amount))
    return out


def _excluded(exclude: Any, places: Places) -> np.ndarray:
    mask = np.zeros(places.n, bool)
    if not exclude:
        return mask
    items = [e.strip() for e in exclude.split(";")] if isinstance(exclude, str) else [str(e).strip() for e in exclude]
    pos = {str(p).upper(): i for i, p in enumerate(places.ids)}
    for e in items:
        if not e:
            continue
        low = e.lower()
        if low.startswith("district:"):
            d = low.split(":", 1)[1].strip().lstrip("0") or "0"
            hit = places.district == d
        elif low.startswith(("community_area:", "ca:")):
            try:
                a = int(low.split(":", 1)[1])
            except ValueError as exc:
                raise ParameterError(f"invalid exclude {e!r}: expected community_area:N") from exc
            hit = places.community_area == a
        elif e.upper() in pos:
            hit = np.zeros(places.n, bool)
            hit[pos[e.upper()]] = True
        else:
            raise ParameterError(f"invalid exclude {e!r}: not a {places.kind} place id, district:N or "
                                 "community_area:N")
        if not hit.any():
            raise ParameterError(f"invalid exclude {e!r}: no candidate place matches")
        mask |= hit
    return mask


# --------------------------------------------------------------------- plan
@dataclass
class Plan:
    """A deployment plan and what it rests on.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per chosen place, best first: ``rank, place, district, community_area,
        address, expected_harm, expected_share, cost, lon, lat`` and, when hours were
        computed, ``high_hours`` and ``visits``.
    meta : dict
        ``title, unit, rule, source, vintage, period, model, weights, budget, constraints,
        planner, objective, bound, gap, status, constraint_costs, district_totals,
        equity, notes, responsible_use``.
    solution : Solution
    problem : PlanProblem
    places : Places
    value : ndarray
        Expected harm of every candidate place.
    constraint_costs : dict
        Constraint name -> expected harm lost by adding it (see the module docstring).
    """

    table: Any
    meta: dict
    solution: Solution
    problem: PlanProblem
    places: Places
    value: np.ndarray
    constraint_costs: dict = field(default_factory=dict)
    profiles: np.ndarray | None = None

    @property
    def chosen(self) -> np.ndarray:
        return self.solution.chosen

    def result(self):
        """The plan as a :class:`~crimescope.stats.provenance.StatResult` (table, CSV, JSON renderings)."""
        from ..stats.provenance import StatResult

        return StatResult(self.table, self.meta)

    def to_csv(self) -> str:
        return self.result().to_csv()

    def to_dict(self) -> dict:
        return self.result().to_dict()

    def to_json(self, indent: int | None = 2) -> str:
        return self.result().to_json(indent)

    def to_geojson(self) -> dict:
        """GeoJSON FeatureCollection (EPSG:4326) of the chosen places with the plan's ``meta``."""
        from .output import plan_geojson

        return plan_geojson(self)

    def plot_map(self, path: Any) -> Any:
        from .output import plot_plan

        return plot_plan(self, path)

    def district_sheet(self, district: str):
        """The rows of one district (for the deployment sheet)."""
        return self.table[self.table["district"] == str(district)]


def plan_places(cell_values: np.ndarray, places: Places, budget: Budget, *, quotas: Any = None,
                equity_cap: float | None = None, shares: dict | None = None, spacing: float = 0.0,
                exclude: Any = None, planner: str = "ip", time_limit: float = 60.0,
                mip_rel_gap: float = 1e-6, constraint_costs: bool = True) -> tuple[PlanProblem, Solution, dict]:
    """Solve the plan for a per-cell expected-harm surface; returns ``(problem, solution, costs)``.

    ``shares`` are the community areas' victimisation shares (:func:`victim_shares`),
    needed with ``equity_cap``. ``costs`` maps ``spacing``, ``district quotas`` and
    ``equity cap`` (those requested) to the expected harm each one loses.
    """
    if not (isinstance(spacing, (int, float)) and math.isfinite(spacing) and spacing >= 0):
        raise ParameterError(f"invalid spacing={spacing!r}: expected a distance in feet >= 0")
    if equity_cap is not None and shares is None:
        raise ParameterError("an equity cap needs the community areas' victimisation shares")
    value = places.values(cell_values)
    cost = budget.costs(places)
    excluded = _excluded(exclude, places)
    avail = ~excluded
    conflicts = places.conflicts(spacing) if spacing > 0 else np.empty((0, 2), np.int64)
    if conflicts.shape[0] > MAX_CONFLICTS:
        raise ParameterError(f"invalid spacing={spacing:g}: {conflicts.shape[0]:,} pairs of places are closer than "
                             f"that (at most {MAX_CONFLICTS:,}); use a smaller spacing or larger places")
    dist_b = _district_bounds(quotas, places, value, cost, budget, avail)
    eq_b = _equity_bounds(equity_cap, places, shares or {}, budget)
    kw = {"time_limit": time_limit, "mip_rel_gap": mip_rel_gap} if planner == "ip" else {}
    steps = [("spacing", bool(spacing > 0)), ("district quotas", bool(dist_b)), ("equity cap", bool(eq_b))]
    full = PlanProblem(value, cost, budget.amount, dist_b + eq_b, conflicts, excluded)
    sol = solve(full, planner, **kw)
    costs: dict = {}
    active = [name for name, on in steps if on]
    if constraint_costs and active:
        empty = np.empty((0, 2), np.int64)
        base = solve(PlanProblem(value, cost, budget.amount, [], empty, excluded), planner, **kw)
        costs["unconstrained"] = prev = base.objective
        acc_b: list = []
        acc_c = empty
        for k, name in enumerate(active):
            if name == "spacing":
                acc_c = conflicts
            elif name == "district quotas":
                acc_b = acc_b + dist_b
            else:
                acc_b = acc_b + eq_b
            s = sol if k == len(active) - 1 else solve(
                PlanProblem(value, cost, budget.amount, acc_b, acc_c, excluded), planner, **kw)
            costs[name] = prev - s.objective
            prev = s.objective
    return full, sol, costs


def _summaries(places: Places, chosen: np.ndarray, value: np.ndarray, cost: np.ndarray, shares: dict | None,
               budget: Budget) -> tuple[list, list]:
    dist_rows = []
    for d in sorted({d for d in places.district if d}, key=lambda c: (len(c), c)):
        mem = places.district == d
        sel = np.zeros(places.n, bool)
        sel[chosen] = True
        dist_rows.append({"district": d, "places": int((sel & mem).sum()), "budget_used": float(cost[sel & mem].sum()),
                          "expected_harm": float(value[sel & mem].sum()),
                          "district_expected_harm": float(value[mem].sum())})
    eq_rows = []
    spent = float(cost[chosen].sum()) or 1.0
    for a in sorted(set(int(c) for c in places.community_area)):
        mem = places.community_area == a
        sel = np.zeros(places.n, bool)
        sel[chosen] = True
        used = float(cost[sel & mem].sum())
        if used == 0 and not (shares and shares.get(a)):
            continue
        vs = (shares or {}).get(a, 0.0)
        eq_rows.append({"community_area": a, "budget_share": used / spent, "victim_share": vs,
                        "ratio": (used / spent) / vs if vs > 0 else None})
    return dist_rows, eq_rows


def make_plan(events, *, as_of: Any, grid: Any, budget: Any, weights: Any = "default",
              model: Any = "smooth_counts", horizon: Any = 7, places: Any = "grid", quotas: Any = None,
              equity_cap: float | None = None, spacing: float = 0.0, exclude: Any = None, planner: str = "ip",
              hours_per_place: float = 1.0, visit_minutes: float = 15, n_hours: int = 6,
              history_days: float = 365.0, time_limit: float = 60.0, seed: int = 0, vintage: dict | None = None,
              data_dir: Any = None, constraint_costs: bool = True, settings: dict | None = None,
              forecast: dict | None = None) -> Plan:
    """A deployment plan from records (see the module docstring for every setting).

    ``events`` is the tagged frame of :func:`crimescope.plan.harm.load_harm_events`
    (records of the mix's categories, and of the model's related categories); only
    records strictly before ``as_of`` are used. ``vintage`` is the store's
    :func:`~crimescope.stats.provenance.data_vintage`, copied into ``meta``. ``forecast`` is a
    :func:`~crimescope.plan.harm.harm_forecast` result for the same ``as_of``, ``grid``,
    weights and model, to skip refitting (the dashboard caches it).
    """
    import pandas as pd

    from ..forecast.base import from_days, parse_time, to_days
    from ..stats.provenance import SOURCES
    from .when import format_hours, format_visits, high_hours, hour_of_week, hour_profiles, koper_schedule

    hw = parse_weights(weights)
    cut = parse_time(as_of)
    past = events[events["occurred_local"] < pd.Timestamp(cut)]
    fc = forecast if forecast is not None else harm_forecast(past, hw, model, cut, grid, horizon)
    hist0 = pd.Timestamp(cut) - pd.Timedelta(days=float(history_days))
    hist = past[(past["occurred_local"] >= hist0) & past["category"].isin(hw.categories)]
    hweight = event_weights(hist, hw)
    pl = places if isinstance(places, Places) else build_places(places, grid, hist, hweight, data_dir)
    b = parse_budget(budget, city_area=float(grid.area.sum()), hours_per_place=hours_per_place)
    shares = victim_shares(past, cut, history_days, hw.categories) if equity_cap is not None else None
    problem, sol, costs = plan_places(fc["expected"], pl, b, quotas=quotas, equity_cap=equity_cap, shares=shares,
                                      spacing=spacing, exclude=exclude, planner=planner, time_limit=time_limit,
                                      constraint_costs=constraint_costs)
    broken = check_solution(problem, sol.chosen)
    if broken:  # pragma: no cover - a solver bug must never reach a plan
        raise AssertionError(f"plan breaks its constraints: {broken}")
    value = problem.value
    order = sol.chosen[np.argsort(-value[sol.chosen], kind="stable")]
    lon, lat = pl.lonlat()
    total_exp = float(value.sum())
    tab = pd.DataFrame({
        "rank": np.arange(1, order.size + 1),
        "place": pl.ids[order].astype(str),
        "district": pl.district[order].astype(str),
        "community_area": pl.community_area[order],
        "address": pl.address[order].astype(str),
        "expected_harm": value[order],
        "expected_share": value[order] / total_exp if total_exp > 0 else 0.0,
        "cost": problem.cost[order],
        "lon": lon[order], "lat": lat[order],
    })
    # when: hour profiles from the history of the mix
    hx, hy = hist["x"].to_numpy(float), hist["y"].to_numpy(float)
    place_of = _place_of_events(pl, grid, hist, data_dir)
    prof = hour_profiles(pl.x, pl.y, place_of, order, hx, hy, hour_of_week(hist["occurred_local"]), hweight)
    rng = np.random.default_rng(seed)
    tab["high_hours"] = [format_hours(high_hours(p, n_hours)) for p in prof]
    tab["high_hours_share"] = [float(np.sort(p)[::-1][:n_hours].sum()) for p in prof]
    tab["visits"] = [format_visits(koper_schedule(p, b.hours_per_place, visit_minutes, rng)) for p in prof]
    dist_rows, eq_rows = _summaries(pl, sol.chosen, value, problem.cost, shares, b)
    horizon_days = float(fc["horizon_days"])
    end = from_days(float(to_days(cut)) + horizon_days)
    cats = ", ".join(hw.categories)
    unassigned = 1.0 - (float(value.sum()) / float(fc["expected"].sum())) if fc["expected"].sum() > 0 else 0.0
    notes = list(pl.notes)
    if events.attrs.get("coverage"):
        notes.append(str(events.attrs["coverage"]))
    if unassigned > 1e-6:
        notes.append(f"{unassigned:.1%} of the forecast's expected harm falls in no candidate place "
                     f"(unassigned_share)")
    notes.append("expected harm is the model's forecast for the window, not a count of what will happen; "
                 "hours are shares of past harm by hour of the week (place 0.5, neighbourhood within 1,500 ft "
                 "0.3, city 0.2)")
    cons = {"quotas": quotas if isinstance(quotas, (str, type(None))) else str(quotas),
            "equity_cap": equity_cap, "spacing_ft": spacing, "exclude": exclude}
    meta = {
        "title": f"Deployment plan: {b.describe()}, {pl.kind} places, {str(cut)[:10]} + {horizon_days:g} days",
        "unit": f"expected harm over the window, {hw.unit}",
        "rule": f"{hw.rule}; forecast by {fc['model']} fitted per category on records before {str(cut)[:16]}",
        "period": f"{str(cut)[:16].replace('T', ' ')} to {str(end)[:16].replace('T', ' ')} (local time)",
        "source": SOURCES.get("chicago"),
        "vintage": vintage or {},
        "model": fc["model"], "weights": hw.weights, "categories": cats,
        "budget": {"kind": b.kind, "amount": b.amount, "unit": b.unit, "text": b.describe(),
                   "hours_per_place": b.hours_per_place, "used": float(problem.cost[sol.chosen].sum())},
        "places_kind": pl.kind, "candidates": pl.n, "constraints": cons,
        "planner": sol.planner, "status": sol.status, "objective": sol.objective, "bound": sol.bound,
        "gap": sol.gap, "solve_seconds": sol.seconds,
        "expected_harm_total": float(fc["expected"].sum()), "unassigned_share": max(unassigned, 0.0),
        "constraint_costs": costs, "district_totals": dist_rows, "equity": eq_rows,
        "history_days": history_days, "visit_minutes": visit_minutes, "seed": seed,
        "notes": notes + [f"planner {sol.planner}: {sol.status}, expected harm {sol.objective:.4g}, "
                          f"within {sol.gap:.2%} of the bound {sol.bound:.4g}"]
                 + [f"cost of the {k} in expected harm: {v:.4g}" for k, v in costs.items() if k != "unconstrained"],
        "responsible_use": RESPONSIBLE_USE,
        **(settings or {}),
    }
    return Plan(table=tab, meta=meta, solution=sol, problem=problem, places=pl, value=value,
                constraint_costs=costs, profiles=prof)


def _place_of_events(pl: Places, grid: Any, ev, data_dir: Any = None) -> np.ndarray:
    """The candidate place of each record (-1 when none): by cell for grids, block text, or unit."""
    x, y = ev["x"].to_numpy(float), ev["y"].to_numpy(float)
    if pl.kind == "grid":
        return grid.locate(x, y)
    if pl.kind == "block":
        pos = {b: i for i, b in enumerate(pl.ids)}
        blocks = ev["block"].to_numpy(object) if "block" in ev.columns else np.full(len(ev), None)
        return np.array([pos.get(str(b).strip().upper(), -1) if b is not None else -1 for b in blocks], np.int64)
    from ..spatial.units import load_units

    return load_units(pl.kind, data_dir=data_dir).locate(x, y)
