"""What each view shows, as results of the application layer (``StatResult``: ``table`` + ``meta``).

The pages, their ``/api/`` twins and the brief call these functions, so a page and its
JSON or CSV twin always carry the same figures. Each is a thin call into
:mod:`crimescope.app` (``app.dashboard``, ``app.counting``) on the request's Dataset
(``ctx.dataset()``), with the web's bounds (``params.LIMITS``) applied first and the
result cached per parameters (the store is read-only).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import CrimescopeError, ParameterError
from .params import LIMITS, check_span

from ..app.dashboard import CELL_SIZES, FORECAST_COVERAGE, FORECAST_HORIZON_DAYS, FORECAST_MODELS  # noqa: F401

__all__ = [
    "as_of_default", "overview", "compstat", "trends", "daily_counts", "map_counts", "hotspots", "forecast",
    "claim", "data_summary", "rejected", "categories", "area_ids", "FORECAST_MODELS",
]


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
    from ..app.counting import default_categories

    return default_categories(ctx)


def area_ids(ctx, kind: str) -> tuple[str, ...]:
    """Unit codes of an area kind, from the shared boundaries (read once per kind)."""
    from ..app.dashboard import area_ids as _area_ids

    return ctx.cached(("area_ids", kind), lambda: _area_ids(ctx.dataset(), kind, ctx.shared_dir))


def _check_area(ctx, kind: str, area: int | None) -> None:
    from ..app.dashboard import check_area

    check_area(ctx.dataset(), kind, area, area_ids(ctx, kind) if kind != "citywide" and area is not None else None)


# -------------------------------------------------------------------- overview
def overview(ctx, as_of: dt.date | None, cats: list[str]) -> Any:
    """Year to date per category vs the same span last year (:func:`crimescope.app.dashboard.overview`)."""
    from ..app import dashboard

    a = as_of or as_of_default(ctx)
    cats = cats or _default_categories(ctx)
    for c in cats:
        _category(c, ctx)
    return ctx.cached(("overview", a, tuple(cats)),
                      lambda: dashboard.overview(ctx.dataset(), as_of=a, categories=cats))


def compstat(ctx, as_of: dt.date | None, cats: list[str], category: str | None = None) -> Any:
    """The CompStat table (:func:`crimescope.app.counting.compstat`): week, 28 days, YTD by district
    vs a year earlier; ``category``: that category's rows only."""
    from ..app import counting

    a = as_of or as_of_default(ctx)
    cats = cats or _default_categories(ctx)
    for c in cats:
        _category(c, ctx)
    res = ctx.cached(("compstat", a, tuple(cats)),
                     lambda: counting.compstat(ctx.dataset(), as_of=a, categories=cats))
    return counting.compstat_category(res, category)


def compstat_wide(res, category: str):
    """Rows per area (citywide first, then districts), one column group per period (for the page).

    Read from plain column lists (the table's Arrow-backed columns cost a lookup per cell in
    ``itertuples``); areas in the order they first appear, periods in the table's order."""
    t = res.table
    keep = [i for i, c in enumerate(t["category"].tolist()) if c == category]  # no frame of the rows
    cols = {}
    for c in ("area", "district", "period", "count", "prev_count", "pct_change", "flagged", "label"):
        values = t[c].tolist()
        cols[c] = [values[i] for i in keep]
    out, rows = [], {}
    for i, (area, district) in enumerate(zip(cols["area"], cols["district"])):
        d = None if district is None or str(district) == "<NA>" else district
        key = (area, d)
        row = rows.get(key)
        if row is None:
            row = rows[key] = {"area": "citywide" if area == "citywide" else
                               ("no district" if d is None else f"district {int(d)}"),
                               "district": None if area == "citywide" or d is None else int(d)}
            out.append(row)
        period, prev, pct = cols["period"][i], cols["prev_count"][i], cols["pct_change"][i]
        row[f"{period}_count"] = int(cols["count"][i])
        row[f"{period}_prev"] = None if prev is None or str(prev) == "<NA>" else int(prev)
        row[f"{period}_pct"] = None if pct is None or pct != pct else float(pct)
        row[f"{period}_flagged"] = bool(cols["flagged"][i])  # Benjamini-Hochberg across the table
        row[f"{period}_label"] = cols["label"][i]
    return out


# ---------------------------------------------------------------------- trends
def daily_counts(ctx, category: str):
    """The category's counts per day and area unit (:class:`crimescope.app._daily.DailyCounts`), built once."""
    from ..app._daily import DailyCounts

    cat = _category(category, ctx)
    return ctx.cached(("daily", cat.name), lambda: DailyCounts.from_store(ctx.dataset(), cat))


def trends(ctx, category: str, area_kind: str, area: int | None, start: dt.date | None,
           end: dt.date | None, interval: str) -> Any:
    """Weekly or monthly counts with the same periods a year earlier (:func:`crimescope.app.dashboard.trends`,
    on the category's daily counts built once per server: :func:`daily_counts`)."""
    from ..app import dashboard

    cat = _category(category, ctx)
    e = end or as_of_default(ctx)
    s = start or (e - dt.timedelta(days=364))
    check_span(s, e, LIMITS["trend_days"], "trends")
    _check_area(ctx, area_kind, area)
    return ctx.cached(("trends", cat.name, area_kind, area, s, e, interval), lambda: dashboard.trends(
        ctx.dataset(), category=cat.name, area_kind=area_kind, area=area, start=s, end=e, interval=interval,
        daily=daily_counts(ctx, cat.name), first=first_day(ctx), ids=() if area_kind == "citywide" else
        area_ids(ctx, area_kind)))


def first_day(ctx) -> dt.date | None:
    """The first local date of occurrence of the request's city in the store, or None when it has none."""
    from ..app import dashboard

    return ctx.cached(("first_day",), lambda: dashboard.first_day(ctx.dataset()))


# ------------------------------------------------------------------------- map
def _map_period(ctx, start, end):
    e = end or as_of_default(ctx)
    s = start or dt.date(e.year, 1, 1)
    check_span(s, e, LIMITS["map_days"], "map")
    return s, e


def map_counts(ctx, category: str, kind: str, start, end, measure: str) -> Any:
    """Counts or rates per 100,000 per area unit (:func:`crimescope.app.dashboard.map_counts`)."""
    from ..app import dashboard

    cat = _category(category, ctx)
    s, e = _map_period(ctx, start, end)
    if measure == "rate" and kind not in ("community_area", "district"):
        raise ParameterError("measure=rate: rates per 100,000 are available for community areas and "
                             "districts only (no population is published for beats and wards)")
    ids = area_ids(ctx, kind)
    return ctx.cached(("map", cat.name, kind, s, e, measure), lambda: dashboard.map_counts(
        ctx.dataset(), category=cat.name, kind=kind, start=s, end=e, measure=measure, shared_dir=ctx.shared_dir,
        ids=ids))


def citywide_total(ctx, category: str, start, end) -> Any:
    """The map page of a city without shipped boundaries (:func:`crimescope.app.dashboard.citywide_total`)."""
    from ..app import dashboard

    cat = _category(category, ctx)
    s, e = _map_period(ctx, start, end)
    return ctx.cached(("citywide_total", cat.name, s, e),
                      lambda: dashboard.citywide_total(ctx.dataset(), category=cat.name, start=s, end=e))


def _grid(ctx, cell: int):
    from ..app import dashboard

    if int(cell) not in CELL_SIZES:
        dashboard.grid(ctx.dataset(), cell)  # raises the ParameterError
    return ctx.cached(("grid", int(cell)), lambda: dashboard.grid(ctx.dataset(), int(cell), ctx.shared_dir))


def hotspots(ctx, category: str, start, end, cell: int) -> Any:
    """Getis-Ord Gi* hot and cold grid cells (:func:`crimescope.app.dashboard.hotspots`), significant only."""
    from ..app import dashboard

    cat = _category(category, ctx)
    s, e = _map_period(ctx, start, end)
    grid = _grid(ctx, cell)
    return ctx.cached(("hotspots", cat.name, s, e, int(cell)), lambda: dashboard.hotspots(
        ctx.dataset(), category=cat.name, start=s, end=e, cell=int(cell), max_rows=LIMITS["layer_rows"],
        grid_=grid))


def _backtested_pai(ctx, category: str, model: str) -> tuple[float | None, str]:
    """(PAI, text) from the ranking the last ``crimescope backtest`` saved next to the store."""
    from ..app.dashboard import backtested_pai

    return backtested_pai(ctx.store_path, category, model)


def forecast(ctx, category: str, as_of: dt.date | None, cell: int, model: str) -> Any:
    """Next week's expected events per cell, top cells covering 1% of the city
    (:func:`crimescope.app.dashboard.forecast`)."""
    from ..app import dashboard

    cat = _category(category, ctx)
    start_day = as_of or (as_of_default(ctx) + dt.timedelta(days=1))
    name, _ = dashboard.forecast_model(ctx.store_path, cat.name, start_day, model)
    grid = _grid(ctx, cell)
    return ctx.cached(("forecast", cat.name, start_day, int(cell), name), lambda: dashboard.forecast(
        ctx.dataset(), category=cat.name, as_of=start_day, cell=int(cell), model=model,
        store_path=ctx.store_path, grid_=grid))


# ----------------------------------------------------------------------- claim
def claim(ctx, text: str | None, as_of, category, value, start, end, district, community_area,
          tolerance) -> Any:
    """Check one published figure (:func:`crimescope.app.dashboard.claim`): verdict and explanation."""
    from ..app import dashboard

    if text and len(text) > LIMITS["claim_chars"]:
        raise ParameterError(f"text: at most {LIMITS['claim_chars']} characters")
    ds = ctx.dataset()
    c = dashboard.build_claim(ds, text=text, as_of=as_of, category=category, value=value, start=start, end=end,
                              district=district, community_area=community_area, tolerance=tolerance)
    s, e = c.period()
    check_span(s, e, LIMITS["trend_days"], "claim period")
    key = ("claim", c.category, float(c.value), s, e, c.district, c.community_area, float(c.tolerance), c.text)
    return ctx.cached(key, lambda: dashboard.claim(ctx.dataset(), claims=[c]))


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
