"""Period comparisons the way the police and the press make them: year to date and CompStat.

Rules (also in docs/counting.md):

* Dates are inclusive local dates. "Year to date as of D" is January 1 to D.
* The same span a year earlier ends on the same month and day. As-of February 29
  compares with January 1 - February 28 of a non-leap year (one day shorter);
  as-of February 28 compares with January 1 - February 28 of a leap year (Feb 29
  is not in the span). So YTD as of December 31 is always the whole year.
* CompStat spans: the week = the 7 days ending on the as-of date, 28 days = the
  28 days ending on it, YTD; each against the spans ending on the same month/day a
  year earlier (calendar alignment, as in the CPD's CompStat reports; the weekdays
  differ by one or two).
"""

from __future__ import annotations

import datetime as dt

from ..categories import Taxonomy, get_category
from ..errors import ParameterError
from . import significance as sig
from ..store import coverage as _coverage
from ._coverage import attach, covered, restrict
from .counts import base_meta, last_complete_day, rule_text, tidy, unit_text
from ..result import provenance
from .provenance import StatResult
from .query import as_date, check_by, incidents_table, same_day_year_ago, daily_expr, window_sums, ytd_expr, to_pandas

__all__ = ["ytd", "compstat", "compstat_windows", "pct_change", "DEFAULT_COMPSTAT_CATEGORIES"]

DEFAULT_COMPSTAT_CATEGORIES = ("murder", "homicide", "shooting", "gun_violence", "robbery",
                               "armed_robbery", "violent_index")

LEAP_RULE = ("same month and day in earlier years; as-of Feb 29 compares with Jan 1-Feb 28 of "
             "non-leap years, and as-of Feb 28 does not include Feb 29 of leap years")


def pct_change(cur, base):
    """100 * (cur - base) / base, or None when the base is 0."""
    if base is None or base == 0:
        return None
    return round(100.0 * (cur - base) / base, 1)


def _fmt_pct(p) -> str:
    return "n/a" if p is None else f"{p:+.1f}%"


def _ytd_note(c: dict, a: dt.date, years: int) -> str:
    note = f"{a.year} YTD {c['count']}"
    if c["last_year"] is not None:
        note += f"; vs {a.year - 1}: {c['change_vs_last_year']:+d} ({_fmt_pct(c['pct_vs_last_year'])})"
    if c["avg_previous_years"] is not None:
        n_avg = len(c.get("avg_years", range(years)))
        note += (f"; vs {n_avg}-year average {c['avg_previous_years']}: {c['change_vs_avg']:+.2f} "
                 f"({_fmt_pct(c['pct_vs_avg'])})")
    return note


def _as_of(store, as_of, source):
    return as_date(as_of, "as_of") if as_of is not None else last_complete_day(store, source)


def ytd(store, category, as_of=None, years: int = 5, by=(), *, source: str | None = None,
        vintage=None, batch: int | None = None, taxonomy: Taxonomy | None = None) -> StatResult:
    """Year to date as of ``as_of`` and the same span in each of ``years`` earlier years.

    ``table`` columns: ``year``, the groupings, ``start``, ``end``, ``count``,
    ``change_vs_prev_year``, ``pct_vs_prev_year``, ``avg_previous_years`` (on the as-of
    year's rows, per group: the mean count of the ``years`` previous years' spans, as
    in ``meta["comparison"]``; empty on earlier years' rows and when ``years`` is 0).
    ``meta["comparison"]`` gives, for the as-of year (per group), the change vs last
    year and vs the average of the ``years`` previous years. ``taxonomy`` resolves a
    category name (default: the built-in taxonomy).
    """
    import pandas as pd

    from ..datasets import as_dataset

    ds = as_dataset(store, source)
    store, source = ds.store, ds.key
    cat = ds.category(category, taxonomy)
    a = _as_of(store, as_of, source)
    if not 0 <= int(years) <= 100:
        raise ParameterError("--years must be between 0 and 100")
    years = int(years)
    by = [b for b in check_by(by) if b != "year"]
    all_years = list(range(a.year - years, a.year + 1))
    # the as-of year must be held; earlier years the store does not hold are shown as such,
    # never as 0, and the average is taken over the fully covered years only
    cov = covered(store, source, cat, dt.date(a.year, 1, 1), a, vintage=vintage, batch=batch)
    year_cov = {y: _coverage.check(store, source, cat, dt.date(y, 1, 1), same_day_year_ago(a, a.year - y),
                                   vintage=vintage, batch=batch) for y in all_years[:-1]}
    year_cov[a.year] = cov
    from ._aggregate import ytd_frame

    restricted = not all(c.full for c in year_cov.values())
    df = ytd_frame(store, source, cat, a, years, by, spans=cov.holds if restricted else None,
                   vintage=vintage, batch=batch)  # None: no per-snapshot aggregate, or not expressible
    if df is None:
        t = incidents_table(store.ibis(), source=source, vintage=vintage, batch=batch)
        if restricted:
            t = restrict(t, cov.holds)
        df = to_pandas(ytd_expr(t, cat, a, years, by))
    df = tidy(df, by)
    if by:
        groups = df[by].drop_duplicates()
        grid = groups.merge(pd.DataFrame({"year": all_years}), how="cross")
    else:
        grid = pd.DataFrame({"year": all_years})
    df = grid.merge(df, on=["year", *by], how="left")
    df["count"] = df["count"].fillna(0).astype("Int64")
    df["coverage"] = df["year"].map({y: c.status for y, c in year_cov.items()})
    df.loc[df["coverage"] == "none", "count"] = pd.NA  # not held: no figure, not 0
    starts = {y: dt.date(y, 1, 1) for y in all_years}
    ends = {y: same_day_year_ago(a, a.year - y) for y in all_years}
    df["start"] = df["year"].map(starts)
    df["end"] = df["year"].map(ends)
    df = df.sort_values([*by, "year"]).reset_index(drop=True)
    prev = df.groupby(by, dropna=False)["count"].shift(1) if by else df["count"].shift(1)
    df["change_vs_prev_year"] = (df["count"] - prev).astype("Int64")
    df["pct_vs_prev_year"] = [pct_change(c, p) if p == p and c is not pd.NA else None  # NaN: first year
                              for c, p in zip(df["count"].tolist(), prev.astype("float64").tolist())]
    # a change is only stated between two fully covered years
    full_year = df["year"].map({y: c.full for y, c in year_cov.items()}).astype(bool)
    prev_full = df["year"].map({y: (y - 1 in year_cov and year_cov[y - 1].full) for y in year_cov}).astype(bool)
    both = full_year & prev_full
    df.loc[~both, "change_vs_prev_year"] = pd.NA
    df["pct_vs_prev_year"] = [p if ok else None for p, ok in zip(df["pct_vs_prev_year"], both)]
    # the grid is complete and sorted by (groups, year): one row of counts per group
    counts = df["count"].astype("float64").to_numpy().reshape(-1, len(all_years))
    keys = df.loc[df["year"] == a.year, by].to_dict(orient="records") if by else [{}]
    full_prev = [i for i, y in enumerate(all_years[:-1]) if year_cov[y].full]
    comparison = []
    for key, row in zip(keys, counts):
        cur = int(row[-1])
        last = int(row[-2]) if years >= 1 and year_cov[a.year - 1].full else None
        avg = float(row[full_prev].mean()) if years >= 1 and full_prev else None
        entry = {b: (None if pd.isna(v) else v) for b, v in key.items()}
        entry.update(year=a.year, count=cur, last_year=last,
                     change_vs_last_year=None if last is None else cur - last,
                     pct_vs_last_year=None if last is None else pct_change(cur, last),
                     avg_previous_years=None if avg is None else round(avg, 2),
                     change_vs_avg=None if avg is None else round(cur - avg, 2),
                     pct_vs_avg=None if avg is None else pct_change(cur, avg),
                     avg_years=[all_years[i] for i in full_prev])
        comparison.append(entry)
    # the average of the previous years, on the as-of year's rows (same order as ``keys``)
    avg_col = pd.Series(float("nan"), index=df.index, dtype="float64")
    cur_rows = df.index[df["year"] == a.year]
    avg_col.loc[cur_rows] = [float("nan") if c["avg_previous_years"] is None else c["avg_previous_years"]
                             for c in comparison]
    df["avg_previous_years"] = avg_col
    df = df[["year", *by, "start", "end", "count", "change_vs_prev_year", "pct_vs_prev_year",
             "avg_previous_years", "coverage"]]
    df = df.sort_values(["year", *by]).reset_index(drop=True)
    df = sig.ytd_tests(df, by, a.year, [y for y in all_years if year_cov[y].full], comparison)

    meta = base_meta(store, cat, source, vintage, batch)
    meta.update(
        title=f"{cat.label}: year to date as of {a}, {a.year - years}-{a.year}",
        as_of=a, years=years, by=by,
        periods=f"Jan 1 to {a:%b %d} of each year {a.year - years}-{a.year}; {LEAP_RULE}",
        comparison=comparison,
    )
    meta["tests"] = sig.ytd_meta(years)
    meta["notes"] = [_ytd_note(comparison[0], a, years)] if not by and comparison else []
    if not by and comparison and years >= 1:
        meta["notes"].append(sig.ytd_test_note(comparison[0], years))
    meta["notes"].append(sig.ytd_note(years))
    attach(meta, cov)
    meta["coverage_by_year"] = {str(y): c.status for y, c in year_cov.items()}
    lacking = [y for y in all_years[:-1] if not year_cov[y].full]
    if lacking:
        meta.setdefault("notes", []).append(
            _lacking_note(cat, year_cov[a.year], lacking, [all_years[i] for i in full_prev], years))
    return StatResult(df, meta)


def _lacking_note(cat, cov, lacking, full_prev_years, years: int) -> str:
    """The note on the earlier years of a ytd the store does not (fully) hold (``cov``: the as-of
    year's coverage; ``full_prev_years``: the covered previous years the average is over)."""
    held = cov.spans_text(cov.holds)
    return (f"years not (fully) in the store for {cat.name}: {_years_text(lacking)} (it holds {held}); "
            f"their counts are empty or partial and they are left out of the comparisons; "
            + (f"the average is over the {len(full_prev_years)} covered year(s) "
               f"{_years_text(full_prev_years)}, not {years}" if full_prev_years and years
               else "no previous year is covered, so there is no average"))


def _years_text(ys) -> str:
    """2004-2011 for a run, else a comma list."""
    ys = sorted(ys)
    if len(ys) > 2 and ys[-1] - ys[0] == len(ys) - 1:
        return f"{ys[0]}-{ys[-1]}"
    return ", ".join(str(y) for y in ys)


def compstat_windows(as_of: dt.date) -> dict[str, tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]]:
    """``{period: ((start, end), (prev_start, prev_end))}`` for week, 28 days and YTD."""
    a = as_date(as_of, "as_of")
    p = same_day_year_ago(a)
    d = dt.timedelta
    return {
        "week": ((a - d(days=6), a), (p - d(days=6), p)),
        "28d": ((a - d(days=27), a), (p - d(days=27), p)),
        "ytd": ((dt.date(a.year, 1, 1), a), (dt.date(p.year, 1, 1), p)),
    }


def compstat(store, as_of=None, categories=DEFAULT_COMPSTAT_CATEGORIES, by_district: bool = True,
             *, source: str | None = None, vintage=None, batch: int | None = None,
             taxonomy: Taxonomy | None = None) -> StatResult:
    """CompStat table: week, 28 days and YTD vs the same spans a year earlier.

    ``table`` columns: ``category``, ``unit``, ``area`` (``citywide`` or ``district``),
    ``district`` (NA for citywide and for records without a district), ``period``,
    ``start``, ``end``, ``count``, ``prev_start``, ``prev_end``, ``prev_count``,
    ``change``, ``pct_change`` (None when the previous count is 0). The citywide row is
    the sum of all records, so the district rows (including the no-district row) sum to it.
    ``taxonomy`` resolves category names (default: the built-in taxonomy).
    """
    import pandas as pd

    from ..datasets import as_dataset

    ds = as_dataset(store, source)
    store, source = ds.store, ds.key
    a = _as_of(store, as_of, source)
    tax = taxonomy if taxonomy is not None else ds.taxonomy()
    cats = [get_category(c, tax) for c in (categories or DEFAULT_COMPSTAT_CATEGORIES)]
    if not cats:
        raise ParameterError("compstat needs at least one category")
    wins = compstat_windows(a)
    # each category's current spans must be held (refused otherwise); a previous span the store
    # does not hold gives no figure and no change, never a comparison with 0
    # (a category the store does not hold this year at all leaves the table, said in a note;
    # when none is held, the table is refused)
    from ..errors import CoverageError
    from ..store.coverage import prefetch_category_types

    prefetch_category_types(store, source, cats)  # the categories' record types in one scan, not one each
    wcov, lacking, held_cats = {}, [], []
    for c in cats:
        try:
            for period, (cur, prev) in wins.items():
                wcov[c.name, period, "cur"] = covered(store, source, c, *cur, vintage=vintage, batch=batch)
                wcov[c.name, period, "prev"] = _coverage.check(store, source, c, *prev, vintage=vintage,
                                                              batch=batch)
        except CoverageError as exc:
            if not lacking:
                first_error = exc
            lacking.append(str(exc))
            for key in [k for k in wcov if k[0] == c.name]:
                del wcov[key]
            continue
        held_cats.append(c)
    if not held_cats:
        raise first_error
    cats = held_cats
    flat = {}
    for period, (cur, prev) in wins.items():
        flat[f"{period}:cur"] = cur
        flat[f"{period}:prev"] = prev
    # two date ranges: this year's spans and last year's (28 days can reach into December)
    ranges = [(min(wins[p][k][0] for p in wins), max(wins[p][k][1] for p in wins)) for k in (0, 1)]
    from ._aggregate import district_window_counts

    # a category counts only the days the store wholly holds it
    partly = {i: wcov[c.name, "ytd", "cur"].holds for i, c in enumerate(cats)
              if not all(wcov[c.name, p, w].full for p in wins for w in ("cur", "prev"))}
    got = district_window_counts(store, source, cats, flat, ranges, partly, vintage=vintage, batch=batch)
    if got is None:  # no per-snapshot aggregate, or a vintage/batch
        t = incidents_table(store.ibis(), source=source, vintage=vintage, batch=batch)
        daily = to_pandas(daily_expr(t, cats, ranges, ["district"]))
        for i, spans in partly.items():
            if len(daily):
                days = pd.to_datetime(daily["date"]).dt.date
                held = pd.Series(False, index=daily.index)
                for lo, hi in spans:
                    held |= (days >= lo) & (days <= hi)
                daily.loc[~held, "mask"] = daily.loc[~held, "mask"] & ~(1 << i)
        got = _window_counts(window_sums(daily, cats, flat, ["district"]), cats, flat)
    districts, counts = got
    cols, all_full = _compstat_frame(cats, wins, wcov, districts, counts, by_district)
    short: dict[str, list[str]] = {}
    for (name, period, which), v in wcov.items():
        if not v.full:
            short.setdefault(name, []).append(
                f"{period} {'this year' if which == 'cur' else 'a year earlier'} ({v.status})")
    span_years = sorted({d.year for w in wins.values() for span in w for d in span})
    test_cols, tested = sig.compstat_test_columns(
        *(cols[k] for k in ("category", "start", "end", "prev_start", "prev_end", "count", "prev_count")),
        {c.name: sig._covered_years(store, source, c, span_years) for c in cats})
    df = _table(cols, test_cols, all_full)
    tests, test_notes = sig.compstat_meta(tested, {c.unit for c in cats})
    meta = provenance(
        store, source=source, vintage=vintage, batch=batch,
        title=f"CompStat as of {a}", as_of=a, categories=[c.name for c in cats],
        unit="; ".join(f"{c.name}: {unit_text(c, ds.profile)}" for c in cats),
        rule="; ".join(rule_text(c) for c in cats),
        periods=("week = 7 days ending on the as-of date, 28d = 28 days ending on it, ytd = Jan 1 "
                 "to it; each vs the spans ending on the same month/day a year earlier "
                 f"({wins['ytd'][1][1]}); {LEAP_RULE}"),
        category_files={c.name: c.origin for c in cats if c.origin is not None},
        notes=["pct_change is empty when the previous count is 0",
               "district rows include records without a district (district empty); they sum to citywide",
               *test_notes],
        tests=tests,
        coverage={f"{k[0]}|{k[1]}|{k[2]}": v.as_dict() for k, v in wcov.items()})
    meta["notes"] += [f"left out: {why}" for why in lacking]
    for name, spans_short in short.items():
        v = wcov[name, "ytd", "cur"]
        meta["notes"].append(f"{name}: the store holds it for {v.spans_text(v.holds)}; not wholly held: "
                             f"{', '.join(spans_short)}, so those counts are partial or empty and no change is given")
    return StatResult(df, meta)


def _window_counts(wide, cats, windows):
    """``(districts, counts)`` of a ``window_sums`` frame by district, as
    :func:`~crimescope.stats._aggregate.district_window_counts` gives them (NaN: the empty district)."""
    import numpy as np
    import pandas as pd

    districts = pd.to_numeric(wide["district"]).astype("float64").to_numpy() if len(wide) else np.zeros(0)
    counts = np.zeros((len(wide), len(cats), len(windows)), "int64")
    for i, c in enumerate(cats):
        for k, w in enumerate(windows):
            counts[:, i, k] = wide[f"{c.name}|{w}"].to_numpy("int64")
    return districts, counts


def _compstat_frame(cats, wins, wcov, districts, counts, by_district: bool):
    """The CompStat cells as columns (lists, a row per area, category and period: citywide first,
    then the districts ascending, the empty district last) and whether every span is wholly held.

    ``counts[d, c, w]``: district ``d``'s records of category ``c`` in window ``w`` (the windows
    ``period:cur``, ``period:prev`` in the order of ``wins``); citywide is their sum."""
    import numpy as np

    order = np.argsort(np.where(np.isnan(districts), np.inf, districts), kind="stable")
    citywide = counts.sum(axis=0)[None] if len(counts) else np.zeros((1, len(cats), 2 * len(wins)), "int64")
    per_area = np.concatenate([citywide, counts[order]]) if by_district else citywide
    n_areas = len(per_area)
    cur = per_area[:, :, 0::2].reshape(-1).tolist()
    prev = per_area[:, :, 1::2].reshape(-1).tolist()
    # what is the same in every area: one entry per (category, period)
    cells = []
    for c in cats:
        for period, ((s, e), (ps, pe)) in wins.items():
            cc, pc = wcov[c.name, period, "cur"], wcov[c.name, period, "prev"]
            ok = cc.full and pc.full
            cells.append((c.name, c.unit, period, s, e, ps, pe, ok, pc.status != "none",
                          "full" if ok else f"current {cc.status}, previous {pc.status}"))
    n = len(cells)
    const = {k: [x[j] for x in cells] * n_areas for j, k in enumerate(
        ("category", "unit", "period", "start", "end", "prev_start", "prev_end", "_ok", "_held", "coverage"))}
    ok, held = const.pop("_ok"), const.pop("_held")
    names = [None if d != d else int(d) for d in districts[order].tolist()] if by_district else []
    cols = {
        "category": const["category"], "unit": const["unit"],
        "area": ["citywide"] * n + ["district"] * (n * len(names)),
        "district": [None] * n + [d for d in names for _ in range(n)],
        "period": const["period"], "start": const["start"], "end": const["end"], "count": cur,
        "prev_start": const["prev_start"], "prev_end": const["prev_end"],
        "prev_count": [p if h else None for p, h in zip(prev, held)],
        "change": [c - p if o else None for c, p, o in zip(cur, prev, ok)],
        "pct_change": [pct_change(c, p) if o else None for c, p, o in zip(cur, prev, ok)],
        "coverage": const["coverage"],
    }
    return cols, all(x[7] for x in cells)


def _table(cols: dict, test_cols: dict, all_full: bool):
    """The CompStat DataFrame from its columns (:func:`_compstat_frame`) and the test columns
    (``significance.compstat_test_columns``), built once; the dtypes those of the table built row by
    row and extended column by column (Int64 districts and previous counts, object test values)."""
    import numpy as np
    import pandas as pd

    data = dict(cols)
    for k in ("district", "prev_count", "change"):
        data[k] = pd.array(data[k], dtype="Int64")
    if all_full:  # the column appears only when a span is not wholly held
        del data["coverage"]
    for k in ("rate_ratio", "ci_low", "ci_high", "p_value"):
        data[k] = _objects(test_cols[k])
    data["label"] = test_cols["label"]
    data["q_value"] = _objects(test_cols["q_value"])
    data["flagged"] = np.asarray(test_cols["flagged"], dtype=bool)
    return pd.DataFrame(data)


def _objects(values):
    """A 1-d object array of ``values`` (Python floats and None, as they are)."""
    import numpy as np

    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
