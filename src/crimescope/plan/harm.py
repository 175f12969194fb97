"""Harm weights and the expected-harm surface a plan maximises.

A plan covers *expected harm*, not a count: each category of a mix gets a weight and
a place's expected harm is ``sum_c w_c * E[events of c in the place over the horizon]``,
each ``E[...]`` from the same registered forecasting model fitted to that category
alone (see :mod:`crimescope.forecast.base`). A single category is the mix with one
weight of 1 (harm = expected events).

The default mix, :data:`DEFAULT_WEIGHTS` (``--weights default``), is a crimescope
choice documented in docs/planning.md, *not* the published Cambridge Crime Harm
Index table: it follows the CCHI's idea (weight = days of custody a first offender
would be given as a sentencing starting point) with round figures for the gun-violence
categories of the taxonomy: a homicide 15 years (5,475 days, the starting point of an
adult's minimum term for murder in England and Wales), a non-fatal shooting 5 years,
an armed robbery with a firearm 4 years, an aggravated assault with a firearm 1 year.
Users with a harm index of their own pass it as ``homicide=5475,shooting=1825,...``.

A record in two categories of the mix counts once, under the larger weight.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..errors import CoverageError, ParameterError

__all__ = ["HarmWeights", "DEFAULT_WEIGHTS", "parse_weights", "load_harm_events", "harm_forecast",
           "observed_harm", "event_weights", "common_coverage"]

#: the default harm-weighted mix (days of custody; a documented crimescope choice, see module docstring)
DEFAULT_WEIGHTS: dict[str, float] = {"homicide": 5475.0, "shooting": 1825.0, "armed_robbery": 1460.0,
                                     "gun_assault": 365.0}
DEFAULT_RULE = ("crimescope default harm weights (days of custody, modelled on the Cambridge Crime Harm Index's "
                "sentencing-starting-point idea; not its table): homicide 5475, shooting 1825, "
                "armed_robbery 1460, gun_assault 365")


@dataclass(frozen=True)
class HarmWeights:
    """Categories of a mix and their weights, with the text that says where the weights come from.

    Attributes
    ----------
    weights : dict
        Category name -> weight (> 0), in the order given.
    rule : str
        One line naming the weights' source (printed with every plan).
    unit : str
        What one unit of harm is (``"days of custody (harm weight)"`` or ``"events"``).
    """

    weights: dict
    rule: str
    unit: str

    @property
    def categories(self) -> list[str]:
        return list(self.weights)

    def describe(self) -> str:
        return ", ".join(f"{c}={w:g}" for c, w in self.weights.items())


_PAIR = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*[=:]\s*([0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?)\s*$")


def parse_weights(spec: Any = "default", taxonomy: Any = None) -> HarmWeights:
    """The weights named by ``spec``.

    ``"default"`` is :data:`DEFAULT_WEIGHTS`; a category name (``"gun_violence"``) is that
    category with weight 1 (harm = expected events); ``"homicide=5475,shooting=1825"``
    or a mapping gives user weights. Every name must be a category of ``taxonomy``
    (the built-in one by default); weights must be positive and finite.
    """
    from ..categories import load_taxonomy

    tax = taxonomy if taxonomy is not None else load_taxonomy()
    if isinstance(spec, HarmWeights):
        return spec
    if spec is None or (isinstance(spec, str) and spec.strip().lower() == "default"):
        return HarmWeights(dict(DEFAULT_WEIGHTS), DEFAULT_RULE, "days of custody (harm weight)")
    if isinstance(spec, Mapping):
        pairs = list(spec.items())
        rule = None
    else:
        text = str(spec).strip()
        if "=" not in text and ":" not in text:
            tax[text]  # CategoryError with suggestions
            return HarmWeights({text: 1.0}, f"{text} events, each weighted 1 (no harm weighting)", "events")
        pairs = []
        for part in text.split(","):
            m = _PAIR.match(part)
            if not m:
                raise ParameterError(f"invalid weights={spec!r}: expected 'default', a category, or "
                                     "'category=weight,...' such as 'homicide=5475,shooting=1825'")
            pairs.append((m.group(1), float(m.group(2))))
        rule = None
    out: dict[str, float] = {}
    for name, w in pairs:
        tax[str(name)]
        w = float(w)
        if not math.isfinite(w) or w <= 0:
            raise ParameterError(f"invalid weight {name}={w!r}: expected a positive number")
        if name in out:
            raise ParameterError(f"invalid weights: {name} is given twice")
        out[str(name)] = w
    if not out:
        raise ParameterError("invalid weights: expected at least one category")
    desc = ", ".join(f"{c} {w:g}" for c, w in out.items())
    return HarmWeights(out, rule or f"user harm weights: {desc}", "harm weight units (user weights)")


def load_harm_events(store, weights: HarmWeights, start=None, end=None, *, related=(), source: str = "chicago",
                     vintage=None, taxonomy: Any = None):
    """The records of the mix's categories (with ``block``), tagged by ``category``, plus ``related`` ones.

    Returns a DataFrame with the columns of :data:`crimescope.stats.events.EVENT_COLUMNS`,
    ``block`` and ``category``, one row per (record, category). ``related`` categories (read
    by leading-indicator models) come without harm weight.
    """
    import pandas as pd

    from ..categories import load_taxonomy
    from ..stats.query import EVENT_COLUMNS, category_predicate, date_predicate, incidents_table, to_pandas

    tax = taxonomy if taxonomy is not None else load_taxonomy()
    t = incidents_table(store.ibis(), source=source, vintage=vintage)
    frames = []
    for name in dict.fromkeys([*weights.categories, *related]):
        cat = tax[name]
        q = t.filter(category_predicate(t, cat), date_predicate(t, start, end))
        df = to_pandas(q.select(*EVENT_COLUMNS, "block").order_by(["occurred_local", "id"]))
        df["occurred_local"] = pd.to_datetime(df["occurred_local"])
        df["category"] = name
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values(["occurred_local", "id", "category"], kind="stable").reset_index(drop=True)
    return common_coverage(out, [*weights.categories, *related])


def common_coverage(events, categories):
    """Keep the records from the latest first month among ``categories`` on.

    A store can hold one category over a longer span than another (the Chicago store has
    homicides from 2001, the other crimes from 2012): a forecast of a mix fitted on the
    longer span would weight the categories unequally over time, so earlier rows are cut
    and ``events.attrs["coverage"]`` says from when (and why) the history starts.
    """
    import pandas as pd

    # the month of a category's first record (a rare category's first record of a covered span may come
    # days after the span's start: homicides begin 2012-01-02 in the 2012 export)
    firsts = {c: events.loc[events["category"] == c, "occurred_local"].min() for c in categories}
    firsts = {c: (t.to_period("M").to_timestamp() if pd.notna(t) else t) for c, t in firsts.items()}
    known = {c: t for c, t in firsts.items() if pd.notna(t)}
    missing = [c for c in categories if c not in known]
    if missing:
        raise CoverageError(f"no records of {', '.join(missing)} in the store before the requested date: "
                            "a plan of that mix cannot be made")
    start = max(known.values())
    first_all = min(known.values())
    out = events[events["occurred_local"] >= start].reset_index(drop=True)
    out.attrs["coverage"] = (f"history from {start.date()} (the first month with records of every category of the mix; "
                             f"the store has some from {first_all.date()})" if start > first_all
                             else f"history from {start.date()}")
    return out


def event_weights(events, weights: HarmWeights) -> np.ndarray:
    """Harm of each row of a tagged frame: its category's weight, a record counted once under its
    largest weight (0 for related-only rows and for the other rows of the same record)."""
    cat = events["category"].to_numpy(object)
    w = np.array([weights.weights.get(c, 0.0) for c in cat], dtype=float)
    if "id" in events.columns and len(events):
        ids = events["id"].to_numpy()
        order = np.lexsort((-w, ids))
        first = np.r_[True, ids[order][1:] != ids[order][:-1]]
        keep = np.zeros(w.size, bool)
        keep[order[first]] = True
        w = np.where(keep, w, 0.0)
    return w


def harm_forecast(events, weights: HarmWeights, model: Any, as_of: Any, grid: Any, horizon: Any = 7) -> dict:
    """Expected harm per grid cell over ``[as_of, as_of + horizon)``.

    ``model`` is a registered model name or a Forecaster; it is cloned and fitted once per
    category of the mix (with the tagged frame when it reads related categories).
    Returns ``{"expected": ndarray (grid.n_cells,), "by_category": {name: expected events},
    "model": name, "as_of", "horizon_days"}``.
    """
    from ..forecast.base import Forecaster, make_model

    proto = make_model(model) if isinstance(model, str) else model
    if not isinstance(proto, Forecaster):
        raise ParameterError(f"invalid model={model!r}: expected a model name or a Forecaster")
    total = np.zeros(grid.n_cells)
    by_cat = {}
    fc = None
    for name, w in weights.weights.items():
        m = proto.clone()
        m.name = proto.name
        m.for_target(name)
        data = events if m.related_categories() else events[events["category"] == name]
        fc = m.fit(data, as_of, grid=grid).predict(horizon)
        by_cat[name] = fc.expected
        total += w * fc.expected
    return {"expected": total, "by_category": by_cat, "model": proto.name or type(proto).__name__,
            "as_of": fc.as_of, "horizon_days": fc.horizon_days}


def observed_harm(events, weights: HarmWeights, grid: Any, start: Any, end: Any) -> np.ndarray:
    """Harm that happened in each grid cell in ``[start, end)`` (located rows, weights as in
    :func:`event_weights`)."""
    from ..forecast.base import parse_time

    a, b = parse_time(start, "start"), parse_time(end, "end")
    t = events["occurred_local"].to_numpy("datetime64[ns]")
    sel = (t >= a) & (t < b)
    ev = events[sel]
    w = event_weights(ev, weights)
    cell = grid.locate(ev["x"].to_numpy(float), ev["y"].to_numpy(float))
    ok = cell >= 0
    return np.bincount(cell[ok], weights=w[ok], minlength=grid.n_cells)
