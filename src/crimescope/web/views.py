"""What each view shows, as library results (``StatResult``: ``table`` + ``meta``).

The pages and their ``/api/`` twins call these functions, so a page and its JSON
or CSV twin always carry the same figures. Each function is a thin composition of
``crimescope.stats`` / ``spatial`` / ``forecast`` calls; results are cached per
parameters (the store is read-only). Nothing here invents a number: when a layer
cannot be computed the result says so in ``meta["not_available"]``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ..errors import CrimescopeError, ParameterError
from .params import LIMITS, check_span

__all__ = [
    "as_of_default", "overview", "compstat", "trends", "daily_counts", "map_counts", "hotspots", "forecast",
    "claim", "data_summary", "rejected", "categories", "area_ids", "FORECAST_MODELS",
]

#: models the web forecast layer may fit on request (fast ones); a backtest's best model is added
FORECAST_MODELS = ("naive_52w", "naive_all", "retro_hotspot", "prospective_hotspot")
FORECAST_HORIZON_DAYS = 7
FORECAST_COVERAGE = 0.01  # share of the city's area flagged by the forecast layer
CELL_SIZES = (500, 1000, 2000)


def _sr():
    from ..stats.provenance import StatResult

    return StatResult


def as_of_default(ctx) -> dt.date:
    """The last complete local day in the store (the default as-of date of every view)."""
    from ..stats.counts import last_complete_day

    return ctx.cached(("as_of",), lambda: last_complete_day(ctx.dataset()))


def _category(name: str | None, ctx=None):
    """The Category ``name`` of the request's city (None: the city's default category)."""
    from ..datasets import get_profile

    prof = ctx.profile if ctx is not None else get_profile(_request_source())
    if name is None:
        name = prof.default_category
    from ..categories.taxonomy import taxonomy_for

    return taxonomy_for(prof)[str(name)]


def _request_source():
    from ._context import _SOURCE

    return _SOURCE.get()


def _default_categories(ctx) -> list[str]:
    from ..stats.periods import DEFAULT_COMPSTAT_CATEGORIES

    return list(ctx.profile.default_categories or DEFAULT_COMPSTAT_CATEGORIES)


def area_ids(ctx, kind: str) -> tuple[str, ...]:
    """Unit codes of an area kind, from the shared boundaries (read once per kind)."""
    from ..spatial.units import AreaUnits

    return ctx.cached(("area_ids", kind),
                      lambda: tuple(str(u) for u in AreaUnits.load(kind, _boundaries_data_dir(ctx),
                                                                   profile=ctx.profile).unit_ids))


def _boundaries_data_dir(ctx):
    return ctx.shared_dir


def _check_area(ctx, kind: str, area: int | None) -> None:
    if kind == "citywide":
        if area is not None:
            raise ParameterError("area: leave empty for citywide, or choose an area kind")
        return
    if area is None:
        raise ParameterError(f"area: give the {kind.replace('_', ' ')} number")
    ids = area_ids(ctx, kind)
    if str(area) not in ids:
        raise ParameterError(f"area: there is no {kind.replace('_', ' ')} {area} in the boundaries")


# -------------------------------------------------------------------- overview
def overview(ctx, as_of: dt.date | None, cats: list[str]) -> Any:
    """Year to date per category vs the same span last year (``stats.ytd`` with ``years=1``)."""
    import pandas as pd

    from ..stats import ytd
    from ..stats.periods import DEFAULT_COMPSTAT_CATEGORIES

    a = as_of or as_of_default(ctx)
    cats = cats or _default_categories(ctx)
    for c in cats:
        _category(c, ctx)

    def compute():
        from ..errors import CoverageError
        from ..stats.pace import METHOD as PACE_METHOD, pace_columns

        rows, units, rules, vintage, source, no_pace, lacking = [], [], [], None, None, [], []
        for c in cats:
            try:
                r = ytd(ctx.dataset(), c, a, years=1)
            except CoverageError as exc:  # "no data for ...", never a row of zeros
                lacking.append(str(exc))
                cat = _category(c, ctx)
                prev_end = _year_before(a)
                rows.append({"category": c, "label": cat.label, "unit": cat.unit, "start": dt.date(a.year, 1, 1),
                             "end": a, "count": None, "prev_start": dt.date(prev_end.year, 1, 1),
                             "prev_end": prev_end, "prev_count": None,
                             "change": None, "pct_change": None, "coverage": str(exc)})
                continue
            pace_cols, why = pace_columns(ctx.dataset(), c, a)
            no_pace += [why] if why else []
            comp = r.meta["comparison"][0]
            cur = r.table[r.table["year"] == a.year].iloc[0]
            prev = r.table[r.table["year"] == a.year - 1].iloc[0]
            rows.append({
                "category": c, "label": r.meta["label"], "unit": r.meta["unit"],
                "start": cur["start"], "end": cur["end"], "count": comp["count"],
                "prev_start": prev["start"], "prev_end": prev["end"], "prev_count": comp["last_year"],
                "change": comp["change_vs_last_year"], "pct_change": comp["pct_vs_last_year"],
                # rate_ratio, ci_low, ci_high, p_value, test_label ("label" is the category's here)
                **{("test_label" if k == "label" else k): v for k, v in comp["test_vs_last_year"].items()},
                **pace_cols,  # pace, pace_low_80 ... pace_high_95, pace_sentence (stats.pace)
                "coverage": "; ".join(n for n in r.meta.get("notes", []) if "not (fully) in the store" in n
                                      or "coverage" in n) or "full",
            })
            units.append(f"{c}: {r.meta['unit']}")
            rules.append(r.meta["rule"])
            vintage, source = r.meta["vintage"], r.meta["source"]
        meta = {"title": f"Year to date as of {a} vs the same span of {a.year - 1}", "as_of": a,
                "unit": "; ".join(units), "rule": "; ".join(rules),
                "periods": f"Jan 1 to {a:%b %d}, {a.year} vs Jan 1 to the same month/day of {a.year - 1}",
                "source": source, "vintage": vintage,
                "notes": ["pct_change is empty when last year's count is 0, or when either year is not "
                          "wholly in the store (see coverage)", _overview_test_note(),
                          "pace*: year-end count implied by the YTD (crimescope pace), " + PACE_METHOD,
                          *no_pace, *lacking]}
        if len(lacking) == len(cats):
            raise CoverageError(f"no data for {a.year} year to date as of {a}: " + "; ".join(lacking))
        df = pd.DataFrame(rows)
        for col in ("count", "prev_count", "change"):
            df[col] = df[col].astype("Int64")
        return _sr()(df, meta)

    return ctx.cached(("overview", a, tuple(cats)), compute)


def _overview_test_note() -> str:
    from ..stats.significance import ALPHA, TWO_COUNT_METHOD

    return (f"rate_ratio, ci_low, ci_high, p_value, test_label: this year vs last year, {TWO_COUNT_METHOD}; "
            f"each category tested on its own at {ALPHA:.0%}")


def compstat(ctx, as_of: dt.date | None, cats: list[str], category: str | None = None) -> Any:
    """The CompStat table (``stats.compstat``): week, 28 days, YTD by district vs a year earlier."""
    from ..stats import compstat as _compstat
    from ..stats.periods import DEFAULT_COMPSTAT_CATEGORIES

    a = as_of or as_of_default(ctx)
    cats = cats or _default_categories(ctx)
    for c in cats:
        _category(c, ctx)
    res = ctx.cached(("compstat", a, tuple(cats)), lambda: _compstat(ctx.dataset(), a, cats))
    if category is None:
        return res
    if category not in cats:
        raise ParameterError(f"category: {category!r} is not among the CompStat categories {', '.join(cats)}")
    t = res.table[res.table["category"] == category].reset_index(drop=True)
    return _sr()(t, dict(res.meta))


def compstat_wide(res, category: str):
    """Rows per area (citywide first, then districts), one column group per period (for the page)."""
    t = res.table[res.table["category"] == category]
    out = []
    for (area, district), g in t.groupby(["area", "district"], dropna=False, sort=False):
        row = {"area": "citywide" if area == "citywide" else
               ("no district" if district is None or str(district) == "<NA>" else f"district {int(district)}"),
               "district": None if area == "citywide" or str(district) == "<NA>" else int(district)}
        for r in g.itertuples(index=False):
            row[f"{r.period}_count"] = int(r.count)
            row[f"{r.period}_prev"] = None if r.prev_count is None or str(r.prev_count) == "<NA>" else int(r.prev_count)
            row[f"{r.period}_pct"] = None if r.pct_change is None or r.pct_change != r.pct_change else float(r.pct_change)
            row[f"{r.period}_flagged"] = bool(r.flagged)  # Benjamini-Hochberg across the table
            row[f"{r.period}_label"] = r.label
        out.append(row)
    return out


# ---------------------------------------------------------------------- trends
def daily_counts(ctx, category: str):
    """The category's counts per day and area unit (:class:`._daily.DailyCounts`), built once."""
    from ._daily import DailyCounts

    cat = _category(category, ctx)
    return ctx.cached(("daily", cat.name), lambda: DailyCounts.from_store(ctx.dataset(), cat))


def trends(ctx, category: str, area_kind: str, area: int | None, start: dt.date | None,
           end: dt.date | None, interval: str) -> Any:
    """Weekly or monthly counts with the same periods a year earlier.

    The figures are sums of the category's daily counts (:func:`daily_counts`: one scan of
    the store per category, by date and area kind), equal to ``stats.count`` by
    ``[interval, area_kind]`` over the span.
    """
    import pandas as pd

    cat = _category(category, ctx)
    e = end or as_of_default(ctx)
    s = start or (e - dt.timedelta(days=364))
    check_span(s, e, LIMITS["trend_days"], "trends")
    _check_area(ctx, area_kind, area)
    by = [interval] + ([area_kind] if area_kind != "citywide" else [])

    def compute():
        daily = daily_counts(ctx, cat.name)
        ps, pe = _year_before(s), _year_before(e)
        cur = daily.period_counts(area_kind, area, s, e, interval)
        prev = daily.period_counts(area_kind, area, ps, pe, interval)
        if interval == "week":
            first = s - dt.timedelta(days=s.weekday())
            keys = [first + dt.timedelta(days=7 * i) for i in range(((e - first).days // 7) + 1)]
            prior_key = {k: k - dt.timedelta(days=364) for k in keys}
        else:
            keys, y, m = [], s.year, s.month
            while (y, m) <= (e.year, e.month):
                keys.append(f"{y:04d}-{m:02d}")
                y, m = (y + 1, 1) if m == 12 else (y, m + 1)
            prior_key = {k: f"{int(k[:4]) - 1:04d}{k[4:]}" for k in keys}
        first = first_day(ctx)
        from ..store import coverage as _coverage

        held = _coverage.category_spans(ctx.view(), ctx.profile.key, cat)

        def last_day(k):  # last date of a period key (week Monday date, or 'YYYY-MM')
            if interval == "week":
                return k + dt.timedelta(days=6)
            y, m = int(k[:4]), int(k[5:7])
            return dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)

        def span_of(k, lo, hi):  # the days of a period key (week Monday date, or 'YYYY-MM') inside lo..hi
            if interval == "week":
                a, b = k, k + dt.timedelta(days=6)
            else:
                y, m = int(k[:4]), int(k[5:7])
                a, b = dt.date(y, m, 1), dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)
            return (a, b), (max(a, lo), min(b, hi))

        def value(series_, k, lo, hi):  # None (no data), never 0, for a period the store does not hold
            _, cut = span_of(k, lo, hi)
            return int(series_.get(k, 0)) if _coverage._intersect([cut], held) else None

        def partial(k, lo, hi):  # cut by the span asked for, or by the store's coverage
            whole, cut = span_of(k, lo, hi)
            return cut != whole or _coverage._intersect([cut], held) != [cut]

        rows = [{"period": k, "count": value(cur, k, s, e), "prior_period": prior_key[k],
                 "prior_count": value(prev, prior_key[k], ps, pe),
                 "partial": partial(k, s, e) or partial(prior_key[k], ps, pe)} for k in keys]
        meta = dict(daily.meta)  # what a library count says it counts (unit, rule, source, vintage)
        where = "citywide" if area_kind == "citywide" else f"{area_kind.replace('_', ' ')} {area}"
        meta.update(title=f"{cat.label} per {interval}, {where}, {s} to {e}, with the year before",
                    period=f"{s} to {e} (inclusive); prior: {ps} to {pe}", start=s, end=e,
                    by=by, total=sum(r["count"] or 0 for r in rows),
                    prior_start=ps, prior_end=pe, interval=interval, area_kind=area_kind, area=area,
                    prior_total=sum(r["prior_count"] or 0 for r in rows))
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
        # column by column: half the cost of DataFrame(rows) followed by astype("Int64")
        df = pd.DataFrame({
            "period": pd.Series([r["period"] for r in rows]),
            "count": pd.array([r["count"] for r in rows], dtype="Int64"),
            "prior_period": pd.Series([r["prior_period"] for r in rows]),
            "prior_count": pd.array([r["prior_count"] for r in rows], dtype="Int64"),
            "partial": pd.Series([r["partial"] for r in rows], dtype=bool),
        })
        # expected vs observed: STL over the store's complete periods (stats.seasonal)
        from ..stats.seasonal import expected_columns

        cols, seasonal_note = expected_columns(
            lambda a, b: daily.period_counts(area_kind, area, a, b, interval), keys, interval, first, last_day, s, e)
        for c, v in cols.items():
            df[c] = pd.array(v, dtype="Float64" if c != "unusual" else "boolean")
        meta["notes"].append(seasonal_note)
        return _sr()(df, meta)

    return ctx.cached(("trends", cat.name, area_kind, area, s, e, interval), compute)


def first_day(ctx) -> dt.date | None:
    """The first local date of occurrence of the request's city in the store, or None when it has none."""
    def compute():
        (v,) = ctx.view().con.execute(
            "SELECT min(occurred_local) FROM incidents WHERE source = ?", [ctx.source]).fetchone()
        return v.date() if v is not None else None

    return ctx.cached(("first_day",), compute)


def _year_before(d: dt.date) -> dt.date:
    from ..stats.query import same_day_year_ago

    return same_day_year_ago(d)


# ------------------------------------------------------------------------- map
def _map_period(ctx, start, end):
    e = end or as_of_default(ctx)
    s = start or dt.date(e.year, 1, 1)
    check_span(s, e, LIMITS["map_days"], "map")
    return s, e


def map_counts(ctx, category: str, kind: str, start, end, measure: str) -> Any:
    """Counts (``stats.count``) or rates per 100,000 (``stats.rates``) per area unit."""
    import pandas as pd

    from ..stats import count, rates_per_100k

    cat = _category(category, ctx)
    s, e = _map_period(ctx, start, end)
    if measure == "rate" and kind not in ("community_area", "district"):
        raise ParameterError("measure=rate: rates per 100,000 are available for community areas and "
                             "districts only (no population is published for beats and wards)")
    ids = area_ids(ctx, kind)
    col = _kind_column(ctx, kind)

    def compute():
        if measure == "rate":
            r = rates_per_100k(ctx.dataset(), cat, s, e, by=kind, shared_dir=ctx.shared_dir)
        else:
            r = count(ctx.dataset(), cat, s, e, by=[col])
        t = r.table.copy()
        key = col if col in t.columns else kind  # rates name the column by the kind
        codes = [None if pd.isna(v) else str(int(v)) for v in t[key]]
        t.insert(0, "unit", codes)
        t = t.drop(columns=[key])
        known = pd.DataFrame({"unit": list(ids)})
        placed = known.merge(t[t["unit"].notna()], on="unit", how="left")
        placed["count"] = placed["count"].fillna(0).astype("int64")
        other = t[t["unit"].isna() | ~t["unit"].isin(ids)]
        table = pd.concat([placed, other], ignore_index=True)
        table.insert(0, "kind", kind)
        meta = dict(r.meta)
        meta.update(title=(f"{cat.label} per 100,000 residents" if measure == "rate" else f"{cat.label}")
                    + f" by {kind.replace('_', ' ')}, {s} to {e}", measure=measure, kind=kind,
                    start=s, end=e, total=int(table["count"].sum()))
        notes = list(meta.get("notes", []))
        notes.append("areas come from each record's own area code; rows with an empty unit are records "
                     "without one (kept so the counts sum to the total)")
        meta["notes"] = notes
        return _sr()(table, meta)

    return ctx.cached(("map", cat.name, kind, s, e, measure), compute)


def citywide_total(ctx, category: str, start, end) -> Any:
    """The map page of a city without shipped boundaries: the period's citywide count, saying why
    there is no choropleth (the hot spot and forecast layers are grid cells and still drawn)."""
    import pandas as pd

    from ..stats import count

    cat = _category(category, ctx)
    s, e = _map_period(ctx, start, end)
    prof = ctx.profile

    def compute():
        r = count(ctx.dataset(), cat, s, e)
        meta = dict(r.meta)
        meta.update(title=f"{cat.label}, {prof.name}, {s} to {e} (citywide)", kind="citywide", measure="count",
                    start=s, end=e, notes=[f"no area boundaries are shipped for {prof.name}: no choropleth; "
                                           "the hot spot and forecast layers are grid cells"])
        return _sr()(pd.DataFrame({"kind": ["citywide"], "unit": [None], "count": [int(r.meta["total"])]}), meta)

    return ctx.cached(("citywide_total", cat.name, s, e), compute)


def _grid(ctx, cell: int):
    from ..spatial.grid import Grid

    prof = ctx.profile
    if int(cell) not in CELL_SIZES:
        raise ParameterError(f"cell: {cell} is not one of {', '.join(map(str, CELL_SIZES))} ({prof.linear_unit})")
    return ctx.cached(("grid", int(cell)), lambda: Grid.for_profile(prof, float(cell), data_dir=ctx.shared_dir))


def _kind_column(ctx, kind: str) -> str:
    """The store column holding the codes of area kind ``kind`` of the request's city."""
    return ctx.profile.area_kind(kind).column


def _cell_boxes(grid, index):
    """WGS84 bounding boxes (lon_min, lat_min, lon_max, lat_max) of grid cells ``index``."""
    import numpy as np

    from ..spatial.grid import LONLAT_CRS, transform_xy

    x0, y0, x1, y1 = (np.asarray(b)[index] for b in grid.bounds())
    lo0, la0 = transform_xy(x0, y0, grid.crs, LONLAT_CRS)
    lo1, la1 = transform_xy(x1, y1, grid.crs, LONLAT_CRS)
    return lo0, la0, lo1, la1


def hotspots(ctx, category: str, start, end, cell: int) -> Any:
    """Getis-Ord Gi* hot and cold grid cells (``spatial.gistar.hotspots``), significant cells only."""
    import numpy as np
    import pandas as pd

    from ..spatial.gistar import BIN_LABELS
    from ..spatial.gistar import hotspots as _hotspots
    from ..result import provenance
    from ..stats.events import load_events

    cat = _category(category, ctx)
    s, e = _map_period(ctx, start, end)
    grid = _grid(ctx, cell)

    def compute():
        ev = load_events(ctx.dataset(), cat, s, e)
        res = _hotspots(ev, grid, label=f"{cat.label}, {s} to {e}")
        idx = np.flatnonzero(res.bins != 0)
        lo0, la0, lo1, la1 = _cell_boxes(grid, idx)
        lon, lat = grid.centroids_lonlat()
        t = pd.DataFrame({
            "cell_id": np.asarray(grid.cell_ids)[idx], "count": res.values[idx].astype("int64"),
            "gi_z": np.round(res.z[idx], 3), "gi_p": res.p[idx], "gi_bin": res.bins[idx].astype(int),
            "gi_label": [BIN_LABELS[int(b)] for b in res.bins[idx]],
            "lon": np.round(np.asarray(lon)[idx], 6), "lat": np.round(np.asarray(lat)[idx], 6),
            "lon_min": np.round(lo0, 6), "lat_min": np.round(la0, 6),
            "lon_max": np.round(lo1, 6), "lat_max": np.round(la1, 6),
        }).sort_values(["gi_bin", "gi_z"], ascending=False).reset_index(drop=True)
        notes = []
        if len(t) > LIMITS["layer_rows"]:
            notes.append(f"{len(t)} significant cells; the {LIMITS['layer_rows']} with the largest |z| are listed")
            t = t.loc[t["gi_z"].abs().sort_values(ascending=False).index[:LIMITS["layer_rows"]]]
            t = t.sort_values(["gi_bin", "gi_z"], ascending=False).reset_index(drop=True)
        prof = ctx.profile
        ft = prof.unit_abbrev
        meta = provenance(
            ctx.dataset(), cat, per="grid cell", title=f"Hot spots (Gi*) of {cat.label}, {s} to {e}, {cell} {ft} cells",
            method=(f"Getis-Ord Gi* on counts per {cell} {ft} cell ({prof.crs}), weights "
                    f"{res.weights}; bins at 90/95/99% confidence"
                    + (" with Benjamini-Hochberg FDR correction" if res.fdr else "")),
            start=s, end=e, cell_ft=cell, cell_unit=prof.linear_unit, cells=int(grid.n_units),
            hot_cells=res.n_hot, cold_cells=res.n_cold,
            records=int(len(ev)), records_without_location=int(res.n_no_location),
            records_outside_grid=int(res.n_outside),
            notes=notes + ["only significant cells are listed (gi_bin != 0)",
                           f"{res.n_no_location} records without coordinates are not mapped"])
        return _sr()(t, meta)

    return ctx.cached(("hotspots", cat.name, s, e, int(cell)), compute)


def _backtested_pai(ctx, category: str, model: str) -> tuple[float | None, str]:
    """(PAI, text) from the ranking the last ``crimescope backtest`` saved next to the store."""
    from ..forecast.backtest import ranking_path

    p = ranking_path(ctx.store_path, category)
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


def forecast(ctx, category: str, as_of: dt.date | None, cell: int, model: str) -> Any:
    """Next week's expected events per cell (``forecast`` registry), top cells covering 1% of the city."""
    import numpy as np
    import pandas as pd

    from ..forecast.backtest import choose_best
    from ..forecast.base import make_model
    from ..stats.counts import unit_text
    from ..result import provenance
    from ..stats.events import load_categories, load_events

    cat = _category(category, ctx)
    start_day = as_of or (as_of_default(ctx) + dt.timedelta(days=1))
    notes = []
    if model == "best":
        try:  # only a ranking whose backtest ended by the forecast's start (no look-ahead)
            name, choice = choose_best(ctx.store_path, cat.name, start_day)
            if not choice["used"]:
                notes.append(choice["reason"])
            else:
                notes.append(f"model chosen as the {choice['reason']}")
        except CrimescopeError:
            name = "naive_52w"
            notes.append(f"no backtest of {cat.name} for this store: using the naive_52w baseline")
    else:
        name = model
    if name not in FORECAST_MODELS and model != "best":
        raise ParameterError(f"model: {model!r} is not one of best, {', '.join(FORECAST_MODELS)}")
    grid = _grid(ctx, cell)

    def compute():
        model = make_model(name).for_target(cat.name)
        related = [c for c in model.related_categories() if c != cat.name]
        if related:  # such a model is backtested on all history with its leading indicators: give it the same
            hist_start = None
            ev = load_categories(ctx.dataset(), [cat.name, *related], None, start_day - dt.timedelta(days=1))
            n_used = int((ev["category"] == cat.name).sum())
        else:
            hist_start = start_day - dt.timedelta(days=2 * 365)
            ev = load_events(ctx.dataset(), cat, hist_start, start_day - dt.timedelta(days=1))
            n_used = int(len(ev))
        fc = model.fit(ev, np.datetime64(start_day.isoformat()), grid=grid).predict(f"{FORECAST_HORIZON_DAYS}d")
        order = np.lexsort((np.asarray(grid.cell_ids), fc.rank))
        area = np.asarray(grid.area)[order]
        keep = order[: max(1, int(np.searchsorted(np.cumsum(area), FORECAST_COVERAGE * area.sum()) + 1))]
        lo0, la0, lo1, la1 = _cell_boxes(grid, keep)
        lon, lat = grid.centroids_lonlat()
        t = pd.DataFrame({
            "cell_id": np.asarray(grid.cell_ids)[keep], "rank": fc.rank[keep],
            "expected": np.round(fc.expected[keep], 4),
            "lon": np.round(np.asarray(lon)[keep], 6), "lat": np.round(np.asarray(lat)[keep], 6),
            "lon_min": np.round(lo0, 6), "lat_min": np.round(la0, 6),
            "lon_max": np.round(lo1, 6), "lat_max": np.round(la1, 6),
        })
        pai, pai_text = _backtested_pai(ctx, cat.name, name)
        end_day = start_day + dt.timedelta(days=FORECAST_HORIZON_DAYS - 1)
        prof = ctx.profile
        meta = provenance(
            ctx.dataset(), cat,
            title=f"Forecast of {cat.label}, {start_day} to {end_day}: {name}, {cell} {prof.unit_abbrev} cells",
            unit=f"expected {unit_text(cat, prof)} per grid cell over {FORECAST_HORIZON_DAYS} days",
            model=name, as_of=start_day, horizon_days=FORECAST_HORIZON_DAYS, cell_ft=cell,
            coverage=f"top-ranked cells covering {FORECAST_COVERAGE:.0%} of the city's area",
            expected_total_city=round(float(fc.expected.sum()), 2),
            expected_in_flagged_cells=round(float(fc.expected[keep].sum()), 2),
            history=(f"{hist_start or 'first record'} to {start_day - dt.timedelta(days=1)}"
                     + (f" (with {', '.join(related)} as leading indicators)" if related else "")),
            records_used=n_used, pai=pai, pai_text=pai_text,
            notes=notes + ["a forecast of places (grid cells), never of people", pai_text])
        return _sr()(t, meta)

    return ctx.cached(("forecast", cat.name, start_day, int(cell), name), compute)


# ----------------------------------------------------------------------- claim
def claim(ctx, text: str | None, as_of, category, value, start, end, district, community_area,
          tolerance) -> Any:
    """Check one published figure (``stats.claims``): verdict and explanation."""
    from ..stats.claims import Claim, check_claims, parse_claim

    if ctx.source != "chicago":
        raise ParameterError(f"source: claim checks read Chicago's published figures only, not {ctx.profile.name}'s")
    if text:
        if len(text) > LIMITS["claim_chars"]:
            raise ParameterError(f"text: at most {LIMITS['claim_chars']} characters")
        c = parse_claim(text, as_of=as_of)
        if district is not None:
            c.district = district
        if community_area is not None:
            c.community_area = community_area
        if tolerance:
            c.tolerance = float(tolerance)
    else:
        if category is None or value is None:
            raise ParameterError("give the claim as text, or category and value (with start/end or as_of)")
        _category(category, ctx)
        c = Claim(category=category, value=float(value), start=start, end=end, as_of=as_of,
                  district=district, community_area=community_area, tolerance=float(tolerance or 0))
    s, e = c.period()
    check_span(s, e, LIMITS["trend_days"], "claim period")
    key = ("claim", c.category, float(c.value), s, e, c.district, c.community_area, float(c.tolerance), c.text)
    return ctx.cached(key, lambda: check_claims(ctx.view(), [c]))


# ------------------------------------------------------------------------ data
def data_summary(ctx) -> dict:
    """Sources, vintages, freshness, ingest batches and syncs (``store.info.store_info``)."""
    from ..stats.counts import last_complete_day
    from ..stats.provenance import data_vintage, source_description
    from ..store.info import store_info

    def compute():
        info = store_info(ctx.view())
        info["store"] = ctx.store_path.name
        for b in info.get("batches", []):
            b["origin"] = _short_origin(b.get("origin"))
        out = {"title": "Data: sources, vintages, freshness", "store": info["store"], "sources": []}
        for key, s in info["sources"].items():
            vint = data_vintage(ctx.view(), key)
            entry = {"source": key, "description": source_description(key), **s, "vintage": vint}
            try:
                entry["last_complete_day"] = last_complete_day(ctx.view(), key)
            except CrimescopeError:  # a source key no profile declares: no day is claimed
                entry["last_complete_day"] = None
            out["sources"].append(entry)
        out["batches"] = info["batches"]
        out["syncs"] = info["syncs"]
        out["limits"] = {k: str(v) for k, v in LIMITS.items()}
        out["definitions"] = {
            "dates": ctx.profile.dates_text(),
            "unit": "what one counted row is: victims (HOMICIDE rows), incidents, or records (a mix)",
            "vintage": "max updated_at = latest source update among the rows counted; latest batch = "
                       "when the store last received data",
            "freshness": "last complete day = the earlier of the latest occurrence date and the day "
                         "before the latest update",
            "ytd": "January 1 to the as-of date, against the same month/day a year earlier",
            "compstat": "week = 7 days ending on the as-of date, 28d = 28 days, ytd; each vs a year earlier",
            "hot spots": "Getis-Ord Gi* on grid-cell counts, 90/95/99% confidence bins with FDR correction",
            "PAI": "predictive accuracy index: share of events in flagged cells / share of area flagged",
        }
        return out

    return ctx.cached(("data",), compute)  # the city is part of every cache key


def _short_origin(origin):
    from pathlib import Path

    if origin is None:
        return None
    s = str(origin)
    return s if s.startswith("http") else Path(s).name


def data_table(summary: dict) -> Any:
    """The data summary as a flat table (rows per source and year) for the CSV twin."""
    import pandas as pd

    rows = []
    for s in summary["sources"]:
        for year, n in (s.get("by_year") or {}).items():
            rows.append({"source": s["source"], "year": int(year), "records": int(n),
                         "vintage_max_updated_at": s["vintage"]["max_updated_at"],
                         "latest_batch_at": s["vintage"]["latest_batch_at"]})
    meta = {"title": summary["title"], "unit": "records as stored (HOMICIDE rows are victims)",
            "rule": "all current versions in the store", "source": "; ".join(s["description"] for s in summary["sources"]),
            "vintage": summary["sources"][0]["vintage"] if summary["sources"] else {}}
    return _sr()(pd.DataFrame(rows, columns=["source", "year", "records", "vintage_max_updated_at",
                                             "latest_batch_at"]), meta)


def rejected(ctx, limit: int, offset: int) -> Any:
    """Rows the importer refused, with the reason (a page of the ``rejected`` table)."""
    import pandas as pd

    def compute():
        con = ctx.view().con
        (total,) = con.execute("SELECT count(*) FROM rejected").fetchone()
        rows = con.execute(
            "SELECT source, batch_id, origin, line, reason, raw, rejected_at FROM rejected "
            "ORDER BY source, batch_id, line LIMIT ? OFFSET ?", [int(limit), int(offset)]).fetchall()
        t = pd.DataFrame(rows, columns=["source", "batch_id", "origin", "line", "reason", "raw", "rejected_at"])
        t["origin"] = [_short_origin(o) for o in t["origin"]]
        t["rejected_at"] = t["rejected_at"].astype(str)
        from ..result import provenance

        meta = provenance(ctx.view(), title=f"Rejected rows {offset + 1}-{offset + len(t)} of {int(total)}",
                          unit="input rows refused by the importer", rule="every refused row is kept with its reason",
                          total=int(total), limit=limit, offset=offset)
        meta["source"] = f"the store's rejected table (rows refused while importing: {meta['source']})"
        return _sr()(t, meta)

    return ctx.cached(("rejected", limit, offset), compute)


def categories(ctx=None) -> Any:
    """The categories of the request's city (its ``source``; default Chicago)."""
    from ..stats.categories_table import categories_result

    return categories_result(source=ctx.source if ctx is not None else _request_source())
