"""The dashboard's analyses (Overview, trends, map layers, claim), each a function of a Dataset.

Each takes a :class:`~crimescope.datasets.Dataset` and its parameters and returns a
``StatResult`` (table + provenance); :mod:`crimescope.web.views` adds the request's
bounds (``web.params.LIMITS``) and caches them per request parameters. What a function
needs from where it runs is a parameter: ``shared_dir`` (reference data), ``store_path``
(where ``crimescope backtest`` saved its ranking), ``daily`` (the trends' daily counts,
built once per category by the server).
"""

from __future__ import annotations

import datetime as dt
import json

from ..errors import CoverageError, ParameterError

__all__ = ["SPOT_RULES", "hot_spot_cells", "overview", "trends", "first_day", "area_kinds", "area_ids", "check_area", "map_counts", "citywide_total", "grid",
           "hotspots", "forecast", "claim", "CELL_SIZES", "FORECAST_MODELS", "FORECAST_HORIZON_DAYS",
           "FORECAST_COVERAGE"]

#: models the web forecast layer may fit on request (fast ones); a backtest's best model is added
FORECAST_MODELS = ("naive_52w", "naive_all", "retro_hotspot", "prospective_hotspot")
FORECAST_HORIZON_DAYS = 7
FORECAST_COVERAGE = 0.01  # share of the city's area flagged by the forecast layer
CELL_SIZES = (500, 1000, 2000)


def _sr(table, meta):
    from ..stats.provenance import StatResult

    return StatResult(table, meta)


def as_of_default(ds) -> dt.date:
    """The last complete local day in the store (the default as-of date of every view)."""
    from ..stats.counts import last_complete_day

    return last_complete_day(ds)


def _year_before(d: dt.date) -> dt.date:
    from ..stats.query import same_day_year_ago

    return same_day_year_ago(d)


# -------------------------------------------------------------------- overview
def overview(ds, *, taxonomy=None, as_of: dt.date | None = None, categories=()):
    """Year to date per category vs the same span last year (``stats.ytd`` with ``years=1``), with pace.

    The figures are ``stats.ytd``'s, read through :func:`crimescope.stats.ytd_summary.ytd_vs_last_year`
    (from the per-snapshot count tables in one pass when the store carries them)."""
    from ..stats.pace import METHOD as PACE_METHOD, pace_columns
    from ..stats.significance import ALPHA, TWO_COUNT_METHOD
    from ..stats.ytd_summary import ytd_vs_last_year
    from .counting import default_categories

    a = as_of or as_of_default(ds)
    cats = list(categories or ()) or default_categories(ds)
    for c in cats:
        ds.category(c, taxonomy)
    rows, units, rules, vintage, source, no_pace, lacking = [], [], [], None, None, [], []
    for c, r in zip(cats, ytd_vs_last_year(ds, cats, a, taxonomy=taxonomy)):
        if isinstance(r, CoverageError):  # "no data for ...", never a row of zeros
            lacking.append(str(r))
            cat = ds.category(c, taxonomy)
            prev_end = _year_before(a)
            rows.append({"category": c, "label": cat.label, "unit": cat.unit, "start": dt.date(a.year, 1, 1),
                         "end": a, "count": None, "prev_start": dt.date(prev_end.year, 1, 1),
                         "prev_end": prev_end, "prev_count": None,
                         "change": None, "pct_change": None, "coverage": str(r)})
            continue
        pace_cols, why = pace_columns(ds, c, a, taxonomy=taxonomy)
        no_pace += [why] if why else []
        rows.append({
            "category": c, "label": r["label"], "unit": r["unit"],
            "start": r["start"], "end": r["end"], "count": r["count"],
            "prev_start": r["prev_start"], "prev_end": r["prev_end"], "prev_count": r["last_year"],
            "change": r["change"], "pct_change": r["pct_change"],
            # rate_ratio, ci_low, ci_high, p_value, test_label ("label" is the category's here)
            **{("test_label" if k == "label" else k): v for k, v in r["test"].items()},
            **pace_cols,  # pace, pace_low_80 ... pace_high_95, pace_sentence (stats.pace)
            "coverage": "; ".join(n for n in r["notes"] if "not (fully) in the store" in n
                                  or "coverage" in n) or "full",
        })
        units.append(f"{c}: {r['unit']}")
        rules.append(r["rule"])
        vintage, source = r["vintage"], r["source"]
    test_note = (f"rate_ratio, ci_low, ci_high, p_value, test_label: this year vs last year, {TWO_COUNT_METHOD}; "
                 f"each category tested on its own at {ALPHA:.0%}")
    meta = {"title": f"Year to date as of {a} vs the same span of {a.year - 1}", "as_of": a,
            "unit": "; ".join(units), "rule": "; ".join(rules),
            "periods": f"Jan 1 to {a:%b %d}, {a.year} vs Jan 1 to the same month/day of {a.year - 1}",
            "source": source, "vintage": vintage,
            "notes": ["pct_change is empty when last year's count is 0, or when either year is not "
                      "wholly in the store (see coverage)", test_note,
                      "pace*: year-end count implied by the YTD (crimescope pace), " + PACE_METHOD,
                      *no_pace, *lacking]}
    if len(lacking) == len(cats):
        raise CoverageError(f"no data for {a.year} year to date as of {a}: " + "; ".join(lacking))
    return _sr(_frame_of_rows(rows, int_columns=("count", "prev_count", "change")), meta)


def _frame_of_rows(rows: list[dict], int_columns=()):
    """``pd.DataFrame(rows)`` with ``int_columns`` as Int64, built from columns: the columns in the
    order the rows first name them, a key a row lacks as NaN (as pandas fills it), the same dtypes."""
    import numpy as np
    import pandas as pd

    names = list(dict.fromkeys(k for r in rows for k in r))
    nan = np.nan
    data = {c: [r.get(c, nan) for r in rows] for c in names}
    for c in int_columns:
        data[c] = pd.array([None if v is nan else v for v in data[c]], dtype="Int64")
    return pd.DataFrame(data)


# ---------------------------------------------------------------------- trends
def first_day(ds) -> dt.date | None:
    """The first local date of occurrence of the dataset's city in the store, or None when it has none."""
    (v,) = ds.con.execute("SELECT min(occurred_local) FROM incidents WHERE source = ?", [ds.key]).fetchone()
    return v.date() if v is not None else None



def _masked(values, dtype: str):
    """``pd.array(values, dtype=dtype)`` of Python ints, floats or bools and None (NA), for the
    ``Int64``, ``Float64`` and ``boolean`` dtypes, from the values and their mask directly."""
    import numpy as np
    import pandas as pd

    mask = np.fromiter((v is None for v in values), bool, len(values))
    kind, fill, array = {"Int64": ("int64", 0, pd.arrays.IntegerArray),
                         "Float64": ("float64", 0.0, pd.arrays.FloatingArray),
                         "boolean": ("bool", False, pd.arrays.BooleanArray)}[dtype]
    data = np.array([fill if v is None else v for v in values], dtype=kind)
    if dtype == "Float64":  # pd.array reads NaN as NA
        nan = np.isnan(data)
        if nan.any():
            mask, data = mask | nan, np.where(nan, 0.0, data)
    return array(data, mask)


def _held_total(counts) -> int | None:
    """The sum of the periods the store holds; None (no data, not 0) when it holds none of them.
    Periods without a count are named in the result's notes."""
    held = [int(n) for n in counts if n is not None]
    return sum(held) if held else None

def trends(ds, *, taxonomy=None, category: str | None = None, area_kind: str = "citywide",
           area: int | None = None, start: dt.date | None = None, end: dt.date | None = None,
           interval: str = "week", daily=None, first: dt.date | None = None, shared_dir=None, ids=None):
    """Weekly or monthly counts with the same periods a year earlier, and the seasonal expectation.

    The figures are sums of the category's daily counts (``daily``: a
    :class:`crimescope.app._daily.DailyCounts`, built here when not given), equal to
    ``stats.count`` by ``[interval, area_kind]`` over the span; the period keys and spans
    are the library's groupings' (``stats._coverage.period_keys`` / ``period_of_group``).
    A period the store does not hold has no count (never 0).
    """
    import pandas as pd

    from ..stats._coverage import period_keys, period_of_group, year_earlier_key
    from ..stats.seasonal import expected_columns
    from ..store import coverage as _coverage

    if interval not in ("week", "month"):
        raise ParameterError(f"interval: {interval!r} is not one of week, month")
    cat = ds.category(category or ds.profile.default_category, taxonomy)
    e = end or as_of_default(ds)
    s = start or (e - dt.timedelta(days=364))
    if e < s:
        raise ParameterError(f"trends: end {e} is before start {s}")
    check_area(ds, area_kind, area, ids, shared_dir)
    by = [interval] + ([area_kind] if area_kind != "citywide" else [])
    if daily is None:
        from ._daily import DailyCounts

        daily = DailyCounts.from_store(ds, cat)
    ps, pe = _year_before(s), _year_before(e)
    cur = daily.period_counts(area_kind, area, s, e, interval)
    prev = daily.period_counts(area_kind, area, ps, pe, interval)
    keys = period_keys(interval, s, e)
    prior_key = {k: year_earlier_key(interval, k) for k in keys}
    first = first if first is not None else first_day(ds)
    held = _coverage.category_spans(ds.store, ds.key, cat)

    def last_day(k):  # last date of a period key
        return period_of_group(interval, k)[1]

    def cell(series_, k, lo, hi):  # (count, partial) of a period key within lo..hi
        a, b = period_of_group(interval, k)
        cut = (max(a, lo), min(b, hi))
        inside = _coverage._intersect([cut], held)
        # None (no data), never 0, for a period the store does not hold; partial: cut by the span
        # asked for, or by the store's coverage
        return (int(series_.get(k, 0)) if inside else None), (cut != (a, b) or inside != [cut])

    rows = []
    for k in keys:
        n, cut_now = cell(cur, k, s, e)
        n_prior, cut_prior = cell(prev, prior_key[k], ps, pe)
        rows.append({"period": k, "count": n, "prior_period": prior_key[k], "prior_count": n_prior,
                     "partial": cut_now or cut_prior})
    meta = dict(daily.meta)  # what a library count says it counts (unit, rule, source, vintage)
    where = "citywide" if area_kind == "citywide" else f"{area_kind.replace('_', ' ')} {area}"
    meta.update(title=f"{cat.label} per {interval}, {where}, {s} to {e}, with the year before",
                period=f"{s} to {e} (inclusive); prior: {ps} to {pe}", start=s, end=e,
                by=by, total=_held_total(r["count"] for r in rows),
                prior_start=ps, prior_end=pe, interval=interval, area_kind=area_kind, area=area,
                prior_total=_held_total(r["prior_count"] for r in rows))
    coverage = []
    if first is None or ps < first:
        coverage.append(f"the store has no records before {first}: periods before that date have no "
                        "count (missing data, not zero)")
    if any(r["count"] is None or r["prior_count"] is None for r in rows):
        coverage.append(f"no data for {cat.name} in the periods without a count: the store holds it for "
                        + (", ".join(f"{a}..{b}" for a, b in held) or "no dates") + " (missing, not zero)")
    if any(r["partial"] for r in rows):
        coverage.append("partial = true: the period is cut by the span asked for or by the store's coverage")
    meta["coverage"] = {"holds": [[a.isoformat(), b.isoformat()] for a, b in held]}
    meta["notes"] = coverage + [
        "weeks start on Monday; the first and last week (month) may be partial: only days "
        f"from {s} to {e} are counted" if interval == "week" else
        f"months are calendar months; the first and last may be partial (only {s} to {e} counted)",
        "prior_period is 52 weeks earlier (weeks) or the same month a year earlier (months)",
    ]
    # expected vs observed: STL over the store's complete periods (stats.seasonal)
    cols, seasonal_note = expected_columns(
        lambda a, b: daily.period_counts(area_kind, area, a, b, interval), keys, interval, first, last_day, s, e)
    # column by column, built once: a fraction of the cost of DataFrame(rows) and astype("Int64")
    df = pd.DataFrame({
        "period": pd.Series([r["period"] for r in rows]),
        "count": _masked([r["count"] for r in rows], "Int64"),
        "prior_period": pd.Series([r["prior_period"] for r in rows]),
        "prior_count": _masked([r["prior_count"] for r in rows], "Int64"),
        "partial": pd.Series([r["partial"] for r in rows], dtype=bool),
        **{c: _masked(v, "Float64" if c != "unusual" else "boolean") for c, v in cols.items()},
    })
    meta["notes"].append(seasonal_note)
    return _sr(df, meta)


# ------------------------------------------------------------------------- map
def area_kinds() -> tuple[str, ...]:
    """The area kinds with boundaries over the registered city profiles (a city answers only its own)."""
    from ..datasets import profiles

    out: list[str] = []
    for p in profiles().values():
        out += [k for k in p.mapped_kinds() if k not in out]
    return tuple(out)


def area_ids(ds, kind: str, shared_dir=None) -> tuple[str, ...]:
    """Unit codes of an area kind of the dataset's city, from its boundaries."""
    from ..spatial.units import AreaUnits

    return tuple(str(u) for u in AreaUnits.load(kind, shared_dir, profile=ds.profile).unit_ids)


def check_area(ds, kind: str, area: int | None, ids=None, shared_dir=None) -> None:
    """``area`` is a unit of area kind ``kind`` of the city (or None for ``citywide``): a unit its
    boundaries do not have is refused, never counted as 0."""
    if kind == "citywide":
        if area is not None:
            raise ParameterError("area: leave empty for citywide, or choose an area kind")
        return
    if area is None:
        raise ParameterError(f"area: give the {kind.replace('_', ' ')} number")
    ids = ids if ids is not None else area_ids(ds, kind, shared_dir)
    if str(area) not in ids:
        raise ParameterError(f"area: there is no {kind.replace('_', ' ')} {area} in the boundaries")


def map_counts(ds, *, taxonomy=None, category: str | None = None, kind: str = "community_area", start=None, end=None,
               measure: str = "count", shared_dir=None, ids=None):
    """Counts (``stats.count``) or rates per 100,000 (``stats.rates``) per area unit, every unit listed."""
    import pandas as pd

    from ..stats import count, rates_per_100k

    cat = ds.category(category or ds.profile.default_category, taxonomy)
    e = end or as_of_default(ds)
    s = start or dt.date(e.year, 1, 1)
    if measure == "rate" and kind not in ("community_area", "district"):
        raise ParameterError("measure=rate: rates per 100,000 are available for community areas and "
                             "districts only (no population is published for beats and wards)")
    ids = ids if ids is not None else area_ids(ds, kind, shared_dir)
    col = ds.profile.area_kind(kind).column
    if measure == "rate":
        r = rates_per_100k(ds, cat, s, e, by=kind, shared_dir=shared_dir)
    else:
        r = count(ds, cat, s, e, by=[col])
    table = _units_table(r.table, col if col in r.table.columns else kind, kind, ids)  # rates name it by kind
    meta = dict(r.meta)
    meta.update(title=(f"{cat.label} per 100,000 residents" if measure == "rate" else f"{cat.label}")
                + f" by {kind.replace('_', ' ')}, {s} to {e}", measure=measure, kind=kind,
                start=s, end=e, total=int(table["count"].sum()))
    notes = list(meta.get("notes", []))
    notes.append("areas come from each record's own area code; rows with an empty unit are records "
                 "without one (kept so the counts sum to the total)")
    meta["notes"] = notes
    return _sr(table, meta)


def _units_table(t, key: str, kind: str, ids):
    """The map's table of a count (or rate) table by area column ``key``: ``kind``, ``unit`` (the
    code as text) and the other columns, every unit of ``ids`` first in their order (0 when it has
    no record), then the rows without a unit or with a code ``ids`` lacks, in the table's order."""
    import numpy as np
    import pandas as pd

    missing = t[key].isna().to_numpy()
    codes = [None if m else str(int(v)) for v, m in zip(t[key].tolist(), missing)]
    at = {c: i for i, c in enumerate(codes) if c is not None}
    if at and list(t.columns) == [key, "count"] and len(at) == len(codes) - int(missing.sum()):
        # a count by one area column (codes distinct, at least one: an empty table keeps its
        # dtypes as the pandas path gives them): the table from NumPy arrays, built once
        n = t["count"].to_numpy()
        idx = np.array([at.get(u, -1) for u in ids], dtype="int64")
        placed = np.where(idx >= 0, n[np.maximum(idx, 0)] if len(n) else 0, 0)
        known = set(ids)
        other = [i for i, c in enumerate(codes) if c is None or c not in known]
        return pd.DataFrame({"kind": kind, "unit": [*ids, *(codes[i] for i in other)],
                             "count": np.concatenate([placed, n[other]]).astype("int64")})
    t = t.copy()
    t.insert(0, "unit", codes)
    t = t.drop(columns=[key])
    known = pd.DataFrame({"unit": list(ids)})
    placed = known.merge(t[t["unit"].notna()], on="unit", how="left")
    placed["count"] = placed["count"].fillna(0).astype("int64")
    other = t[t["unit"].isna() | ~t["unit"].isin(ids)]
    table = pd.concat([placed, other], ignore_index=True)
    table.insert(0, "kind", kind)
    return table


def citywide_total(ds, *, taxonomy=None, category: str | None = None, start=None, end=None):
    """The period's citywide count for a city without shipped boundaries, saying why there is no
    choropleth (the hot spot and forecast layers are grid cells and still drawn)."""
    import pandas as pd

    from ..stats import count

    cat = ds.category(category or ds.profile.default_category, taxonomy)
    e = end or as_of_default(ds)
    s = start or dt.date(e.year, 1, 1)
    prof = ds.profile
    r = count(ds, cat, s, e)
    meta = dict(r.meta)
    meta.update(title=f"{cat.label}, {prof.name}, {s} to {e} (citywide)", kind="citywide", measure="count",
                start=s, end=e, notes=[f"no area boundaries are shipped for {prof.name}: no choropleth; "
                                       "the hot spot and forecast layers are grid cells"])
    return _sr(pd.DataFrame({"kind": ["citywide"], "unit": [None], "count": [int(r.meta["total"])]}), meta)


def grid(ds, cell: int, shared_dir=None):
    """The city's grid of ``cell``-unit cells (one of :data:`CELL_SIZES`)."""
    from ..spatial.grid import Grid

    prof = ds.profile
    if int(cell) not in CELL_SIZES:
        raise ParameterError(f"cell: {cell} is not one of {', '.join(map(str, CELL_SIZES))} ({prof.linear_unit})")
    return Grid.for_profile(prof, float(cell), data_dir=shared_dir)


def _cell_boxes(g, index):
    """WGS84 bounding boxes (lon_min, lat_min, lon_max, lat_max) of grid cells ``index``."""
    return tuple(a[index] for a in _lonlat(g)[2:])


def cell_lonlat(g):
    """``(lon, lat, lon_min, lat_min, lon_max, lat_max)`` of every cell of grid ``g`` (see :func:`_lonlat`)."""
    return _lonlat(g)


def _lonlat(g):
    """``(lon, lat, lon_min, lat_min, lon_max, lat_max)`` of every cell of grid ``g`` (its centroids'
    and its squares' corners in WGS84, pyproj point by point), converted once and kept on the grid:
    the hot spot and forecast layers read their cells' rows of them."""
    import numpy as np

    from ..spatial.grid import LONLAT_CRS, transform_xy

    kept = g.__dict__.get("_lonlat_cells")
    if kept is None:
        x0, y0, x1, y1 = (np.asarray(b) for b in g.bounds())
        lo0, la0 = transform_xy(x0, y0, g.crs, LONLAT_CRS)
        lo1, la1 = transform_xy(x1, y1, g.crs, LONLAT_CRS)
        lon, lat = g.centroids_lonlat()
        kept = g.__dict__["_lonlat_cells"] = tuple(np.asarray(a) for a in (lon, lat, lo0, la0, lo1, la1))
    return kept


def _hotspots_from_cell_days(ds, cat, s, e, g, label: str):
    """``(GiStarResult, records)`` as ``gistar.hotspots(load_events(ds, cat, s, e), g)`` gives them (its
    default weights: a band of 3 cells), from the snapshot's :class:`~crimescope.spatial.cell_days.CellDays`;
    None without a per-snapshot aggregate. The same coverage window and refusal as ``load_events``."""
    from ..spatial.cell_days import cell_days
    from ..spatial.gistar import gi_star
    from ..spatial.grid import Grid, crs_unit
    from ..stats.events import _covered_window

    if type(g) is not Grid:  # a plain lattice (hexagons and area units take the store path)
        return None
    cd = cell_days(ds.store, ds.key, cat, g)
    if cd is None:
        return None
    s, e, cov = _covered_window(ds.store, ds.key, cat, s, e, None)
    counts, n_records, n_no_loc, n_outside = cd.span(s, e, cov.covered if cov is not None and not cov.full
                                                     else None)
    band = g.default_band()
    desc = f"distance band {band:g} {crs_unit(getattr(g, 'crs', None))[1]}, binary, self included"
    res = gi_star(counts, g.band_weights(band), fdr=True, units=g, label=label, weights_desc=desc)
    res.n_no_location = n_no_loc
    res.n_outside = n_outside
    return res, n_records


#: hot spot rules of the map and the brief: (words, minimum |Gi* bin|, keep only the strongest hot
#: cells, at most this share of the city's cells; None: every cell the bin keeps, hot and cold)
SPOT_RULES = {
    "top": ("the strongest hot cells at 99% confidence, at most 1% of the city's cells", 3, 0.01),
    "99": ("every cell hot or cold at 99% confidence", 3, None),
    "95": ("every cell hot or cold at 95% confidence or more", 2, None),
    "90": ("every cell hot or cold at 90% confidence or more", 1, None),
}


def hot_spot_cells(hs, rule: str = "top"):
    """The cells of a :func:`hotspots` result that ``rule`` (a key of :data:`SPOT_RULES`) keeps,
    as the dashboard's map draws them and the brief's map does, and the rule in words.

    Returns ``(table, shown, by_bin)``: the kept rows of ``hs.table`` (for ``top``: the hot cells
    at 99% confidence with the largest Gi* z, ties by cell id, at most ``ceil(share * cells)`` and
    at least one), the sentence "Shown: <rule> (N of M cells). Hot at 99%: ...; cold: ...", and
    the number of cells of each bin.
    """
    if rule not in SPOT_RULES:
        raise ParameterError(f"hot spot rule {rule!r} is not one of {', '.join(SPOT_RULES)}")
    label, level, share = SPOT_RULES[rule]
    t = hs.table
    by_bin = {b: int((t["gi_bin"] == b).sum()) for b in (3, 2, 1, -1, -2, -3)}
    keep = t[t["gi_bin"].abs() >= level]
    if share is not None:
        n = max(1, int(share * hs.meta["cells"] + 0.999999))
        keep = keep[keep["gi_bin"] > 0].sort_values(["gi_z", "cell_id"], ascending=[False, True],
                                                     kind="mergesort").head(n)
    shown = (f"Shown: {label} ({len(keep):,} of {hs.meta['cells']:,} cells). Hot at 99%: {by_bin[3]:,}; "
             f"at 95%: {by_bin[2]:,}; at 90%: {by_bin[1]:,}; cold: {hs.meta['cold_cells']:,}.")
    return keep, shown, by_bin


def hotspots(ds, *, taxonomy=None, category: str | None = None, start=None, end=None, cell: int = 1000, max_rows: int = 20_000,
             shared_dir=None, grid_=None):
    """Getis-Ord Gi* hot and cold grid cells (``spatial.gistar.hotspots``), significant cells only
    (at most ``max_rows``, those with the largest |z|)."""
    import numpy as np
    import pandas as pd

    from ..result import provenance
    from ..spatial.gistar import BIN_LABELS
    from ..spatial.gistar import hotspots as _hotspots
    from ..stats.events import load_events

    cat = ds.category(category or ds.profile.default_category, taxonomy)
    e = end or as_of_default(ds)
    s = start or dt.date(e.year, 1, 1)
    g = grid_ if grid_ is not None else grid(ds, cell, shared_dir)
    fast = _hotspots_from_cell_days(ds, cat, s, e, g, label=f"{cat.label}, {s} to {e}")
    if fast is not None:  # the snapshot's per-cell records by day (spatial.cell_days): the same figures
        res, n_records = fast
    else:
        ev = load_events(ds, cat, s, e)
        res = _hotspots(ev, g, label=f"{cat.label}, {s} to {e}")
        n_records = int(len(ev))
    idx = np.flatnonzero(res.bins != 0)
    lo0, la0, lo1, la1 = _cell_boxes(g, idx)
    lon, lat = _lonlat(g)[:2]
    t = pd.DataFrame({
        "cell_id": np.asarray(g.cell_ids)[idx], "count": res.values[idx].astype("int64"),
        "gi_z": np.round(res.z[idx], 3), "gi_p": res.p[idx], "gi_bin": res.bins[idx].astype(int),
        "gi_label": [BIN_LABELS[int(b)] for b in res.bins[idx]],
        "lon": np.round(np.asarray(lon)[idx], 6), "lat": np.round(np.asarray(lat)[idx], 6),
        "lon_min": np.round(lo0, 6), "lat_min": np.round(la0, 6),
        "lon_max": np.round(lo1, 6), "lat_max": np.round(la1, 6),
    }).sort_values(["gi_bin", "gi_z"], ascending=False).reset_index(drop=True)
    notes = []
    if len(t) > max_rows:
        notes.append(f"{len(t)} significant cells; the {max_rows} with the largest |z| are listed")
        t = t.loc[t["gi_z"].abs().sort_values(ascending=False).index[:max_rows]]
        t = t.sort_values(["gi_bin", "gi_z"], ascending=False).reset_index(drop=True)
    prof = ds.profile
    ft = prof.unit_abbrev
    meta = provenance(
        ds, cat, per="grid cell", title=f"Hot spots (Gi*) of {cat.label}, {s} to {e}, {cell} {ft} cells",
        method=(f"Getis-Ord Gi* on counts per {cell} {ft} cell ({prof.crs}), weights "
                f"{res.weights}; bins at 90/95/99% confidence"
                + (" with Benjamini-Hochberg FDR correction" if res.fdr else "")),
        start=s, end=e, cell_ft=cell, cell_unit=prof.linear_unit, cells=int(g.n_units),
        hot_cells=res.n_hot, cold_cells=res.n_cold,
        records=n_records, records_without_location=int(res.n_no_location),
        records_outside_grid=int(res.n_outside),
        notes=notes + ["only significant cells are listed (gi_bin != 0)",
                       f"{res.n_no_location} records without coordinates are not mapped"])
    return _sr(t, meta)


def backtested_pai(store_path, category: str, model: str) -> tuple[float | None, str]:
    """(PAI, text) from the ranking the last ``crimescope backtest`` saved next to the store."""
    from ..forecast.backtest import ranking_path

    p = ranking_path(store_path, category)
    if not p.is_file():
        return None, (f"not available: no backtest of {category} for this store "
                      f"(run `crimescope backtest --category {category}`)")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, f"not available: the backtest ranking {p.name} is unreadable"
    pai = doc.get("pai")
    if isinstance(pai, dict) and pai.get(model) is not None:
        v = float(pai[model])
        return v, (f"backtested PAI {v:.2f} (mean over weekly windows, {doc.get('coverage')} of the area, "
                   f"{doc.get('horizon_days')} days)")
    return None, (f"not available: the saved backtest ranking of {category} has no PAI for {model} "
                  f"(ranking: {', '.join(map(str, doc.get('ranking', [])))})")


def forecast_model(store_path, category: str, start_day: dt.date, model: str = "best") -> tuple[str, list[str]]:
    """(model name, notes) of a forecast from ``start_day``: ``best`` is the first model of the
    saved backtest ranking when its backtest ended by then (``forecast.backtest.choose_best``:
    no look-ahead), else its documented default, and the note says which and why. An unreadable
    ranking is an error, not a silent default."""
    from ..forecast.backtest import choose_best

    if model != "best":
        if model not in FORECAST_MODELS:
            raise ParameterError(f"model: {model!r} is not one of best, {', '.join(FORECAST_MODELS)}")
        return model, []
    name, choice = choose_best(store_path, category, start_day)
    return name, [f"model chosen as the {choice['reason']}" if choice["used"] else choice["reason"]]


def forecast(ds, *, taxonomy=None, category: str | None = None, as_of: dt.date | None = None, cell: int = 1000,
             model: str = "best", store_path=None, shared_dir=None, grid_=None):
    """Next week's expected events per cell (``forecast`` registry): the top-ranked cells covering
    :data:`FORECAST_COVERAGE` of the city's area, flagged as the backtest flags them
    (``forecast.metrics.flag_fraction``, so the displayed PAI is of the same flagging)."""
    import numpy as np
    import pandas as pd

    from ..forecast.base import make_model
    from ..forecast.metrics import flag_fraction
    from ..result import provenance
    from ..stats.counts import unit_text
    from ..stats.events import load_categories, load_events

    cat = ds.category(category or ds.profile.default_category, taxonomy)
    start_day = as_of or (as_of_default(ds) + dt.timedelta(days=1))
    store_path = store_path if store_path is not None else ds.path
    name, notes = forecast_model(store_path, cat.name, start_day, model)
    g = grid_ if grid_ is not None else grid(ds, cell, shared_dir)
    m = make_model(name).for_target(cat.name)
    related = [c for c in m.related_categories() if c != cat.name]
    # all history, as `crimescope forecast` and the backtest give it: the citywide level's seasonal
    # factor reads up to five earlier years, so a shorter history would give another total
    hist_start = None
    if related:
        ev = load_categories(ds, [cat.name, *related], None, start_day - dt.timedelta(days=1))
        n_used = int((ev["category"] == cat.name).sum())
    else:
        ev = load_events(ds, cat, None, start_day - dt.timedelta(days=1))
        n_used = int(len(ev))
    fc = m.fit(ev, np.datetime64(start_day.isoformat()), grid=g).predict(f"{FORECAST_HORIZON_DAYS}d")
    area = np.asarray(g.area, dtype=float)
    # the backtest's flagging: by expected count per unit area, the straddling tie group in part
    frac = flag_fraction(fc.expected / area, area, FORECAST_COVERAGE * area.sum())
    flagged = np.flatnonzero((frac > 0) & (fc.expected > 0))  # a tie group of zeros is not listed
    keep = flagged[np.lexsort((np.asarray(g.cell_ids)[flagged], np.asarray(fc.rank)[flagged]))]
    lo0, la0, lo1, la1 = _cell_boxes(g, keep)
    lon, lat = _lonlat(g)[:2]
    t = pd.DataFrame({
        "cell_id": np.asarray(g.cell_ids)[keep], "rank": fc.rank[keep],
        "expected": np.round(fc.expected[keep], 4),
        "lon": np.round(np.asarray(lon)[keep], 6), "lat": np.round(np.asarray(lat)[keep], 6),
        "lon_min": np.round(lo0, 6), "lat_min": np.round(la0, 6),
        "lon_max": np.round(lo1, 6), "lat_max": np.round(la1, 6),
    })
    pai, pai_text = backtested_pai(store_path, cat.name, name)
    end_day = start_day + dt.timedelta(days=FORECAST_HORIZON_DAYS - 1)
    prof = ds.profile
    partial = int((frac[keep] < 1).sum())
    meta = provenance(
        ds, cat,
        title=f"Forecast of {cat.label}, {start_day} to {end_day}: {name}, {cell} {prof.unit_abbrev} cells",
        unit=f"expected {unit_text(cat, prof)} per grid cell over {FORECAST_HORIZON_DAYS} days",
        model=name, as_of=start_day, horizon_days=FORECAST_HORIZON_DAYS, cell_ft=cell,
        coverage=f"top-ranked cells covering {FORECAST_COVERAGE:.0%} of the city's area",
        expected_total_city=round(float(fc.expected.sum()), 2),
        expected_in_flagged_cells=round(float((fc.expected * frac).sum()), 2),
        history=(f"{hist_start or 'first record'} to {start_day - dt.timedelta(days=1)}"
                 + (f" (with {', '.join(related)} as leading indicators)" if related else "")),
        records_used=n_used, pai=pai, pai_text=pai_text,
        notes=notes + ["a forecast of places (grid cells), never of people", pai_text,
                       f"flagged as the backtest flags (forecast.metrics.flag_fraction): whole cells by expected "
                       f"count per unit area while they fit in {FORECAST_COVERAGE:.0%} of the area, the tie group "
                       f"straddling it in part ({partial} cells listed are flagged in part; "
                       "expected_in_flagged_cells counts their flagged share; cells expecting 0 are not listed)"])
    return _sr(t, meta)


# ----------------------------------------------------------------------- claim
def build_claim(ds, *, text: str | None = None, as_of=None, category=None, value=None, start=None, end=None,
                district=None, community_area=None, tolerance=None, taxonomy=None):
    """The :class:`~crimescope.stats.claims.Claim` of a sentence, or of category and value (a
    category, or the noun of a sentence, is looked up in ``taxonomy``, default the city's)."""
    from ..stats.claims import Claim, parse_claim

    _chicago_only(ds)
    if text:
        c = parse_claim(text, as_of=as_of, taxonomy=taxonomy)
        if district is not None:
            c.district = district
        if community_area is not None:
            c.community_area = community_area
        if tolerance:
            c.tolerance = float(tolerance)
        return c
    if category is None or value is None:
        raise ParameterError("give the claim as text, or category and value (with start/end or as_of)")
    ds.category(category, taxonomy)
    return Claim(category=category, value=float(value), start=start, end=end, as_of=as_of,
                 district=district, community_area=community_area, tolerance=float(tolerance or 0))


def _chicago_only(ds) -> None:
    if ds.key != "chicago":
        raise ParameterError(f"source: claim checks read Chicago's published figures only, not {ds.profile.name}'s")


def claim(ds, *, taxonomy=None, claims=None, file=None, **values):
    """Check published figures (``stats.claims.check_claims``): verdict and explanation per claim.
    ``claims``: Claim objects; else those of the YAML ``file`` (``stats.claims.claims_from_yaml``);
    else one claim built from ``values`` (:func:`build_claim`)."""
    from ..stats.claims import check_claims, claims_from_yaml

    if claims is None and file is not None:
        _chicago_only(ds)
        claims = claims_from_yaml(file, taxonomy=taxonomy)
    claims = claims if claims is not None else [build_claim(ds, taxonomy=taxonomy, **values)]
    return check_claims(ds, claims, taxonomy=taxonomy)
