"""Build and write the weekly brief (a commander's brief of the city, or of one district).

The figures come from the same functions as the dashboard (:mod:`crimescope.web.views`,
which call ``crimescope.stats`` / ``spatial`` / ``forecast``), so the brief and the
dashboard agree. Page 1 holds the numbers (year to date, last 28 days, last week, each
with its test label and the "on pace for" range) and the district table; then the weekly
trends (partial weeks marked), large labelled maps of hot spots and of next week's places,
the evaluation, and the notes (rules, sources, vintage). Charts are static matplotlib PNGs
embedded as base64 data URIs, so the HTML is a single file that works offline; the PDF is
rendered from that HTML with WeasyPrint.

The document speaks to a reader, not to an operator: models have plain names, and no
command, file name or path appears in it.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CrimescopeError, ParameterError

__all__ = ["Brief", "build_brief", "write_brief", "TREND_CATEGORIES", "MAP_CATEGORY", "DISTRICT_CATEGORIES",
           "MODEL_NAMES", "METHOD_NAMES", "plain_model", "fmt_num"]

TREND_CATEGORIES = ("shooting", "homicide")
MAP_CATEGORY = "shooting"
#: the categories of the district table (one table each)
DISTRICT_CATEGORIES = ("shooting", "murder")
HOTSPOT_DAYS = 365
#: places listed under the forecast map (city brief)
TOP_PLACES = 10
PERIODS = (("ytd", "Year to date"), ("28d", "Last 28 days"), ("week", "Last week"))

#: plain names of the forecast models (a brief never prints a registry name)
MODEL_NAMES = {
    "naive_52w": "last 52 weeks' counts per cell",
    "naive_all": "all-history counts per cell",
    "retro_hotspot": "retrospective hot spots (recent counts, nearby cells weighted)",
    "prospective_hotspot": "prospective hot spots (recent events and their near repeats)",
    "stkde": "space-time kernel density of past events",
    "grid_hawkes": "self-exciting model (each event raises the nearby risk for a while)",
    "sepp": "self-exciting point process of past events",
    "smooth_counts": "smoothed counts of past events",
    "smooth_counts_avg4": "smoothed counts averaged over four starts",
    "learned": "learned model of past counts",
    "leading_indicators": "leading-indicator model (related offences predict shootings)",
    "leading_bagged": "leading-indicator model (averaged over resamples)",
    "leading_reported": "leading-indicator model (reported offences)",
    "ensemble": "average of several models",
    "ensemble_fit": "weighted average of two models",
}


#: plain names of the evaluation methods of the "Did it work?" section
METHOD_NAMES = {"did": "difference-in-differences",
                "cs": "staggered difference-in-differences (Callaway & Sant'Anna)",
                "synth": "synthetic control"}


def plain_model(name: str) -> str:
    """The reader's name of a forecast model."""
    return MODEL_NAMES.get(str(name), str(name).replace("_", " "))


def fmt_num(v, digits: int = 0) -> str:
    """Thousands separators; integers as integers; None/NaN -> "no data" (never 0)."""
    if v is None or (isinstance(v, float) and v != v) or str(v) == "<NA>":
        return "no data"
    f = float(v)
    if digits == 0 or f == int(f):
        return f"{int(round(f)):,}"
    return f"{f:,.{digits}f}"


def fmt_pct(v) -> str:
    if v is None or (isinstance(v, float) and v != v) or str(v) == "<NA>":
        return "n/a"
    return f"{float(v):+.1f}%".replace("-", "\u2212")


_FILE_RE = re.compile(r"\s*\(?[\w./-]*\.(?:csv|json|ya?ml|duckdb|gz|parquet)\)?", re.I)


def plain_source(text: str | None) -> str:
    """A source line without the paths and file names of local copies."""
    if not text:
        return ""
    t = re.sub(r";?\s*copy in [^)]*", "", str(text))
    t = _FILE_RE.sub("", t)
    t = re.sub(r"\s*\(EPSG:\d+\)", "", t)  # a coordinate system code says nothing to a reader
    t = re.sub(r"(?<![\w.])(\d{4,})(?= ft)", lambda m: f"{int(m.group(1)):,}", t)  # 3000 ft -> 3,000 ft
    return re.sub(r"\(\s*\)", "", t).strip()


def _short(label: str) -> str:
    return label.split(" (")[0]


@dataclass
class Brief:
    """The brief's content.

    Attributes
    ----------
    as_of : date
        Last day covered.
    district : str or None
        The district of a district brief (None: the city's).
    overview, compstat : StatResult
        YTD per category (with the pace), and the CompStat table (all districts).
    numbers : list of dict
        Page 1 rows, one per category: ``{"category", "label", "unit", "ytd", "28d", "week", "pace"}``;
        each period ``{"count", "prev", "pct", "label", "flagged", "direction"}``.
    district_tables : list of dict
        ``{"category", "label", "unit", "rows": [{"district", "ytd": cell, "28d": cell}], "outside": int}``.
    trends : list of StatResult
        Weekly series with the year before, one per category in ``TREND_CATEGORIES``.
    hotspots, forecast : StatResult or None
        Map layers; None with the reason in ``unavailable`` when they could not be computed.
    hotspots_drawn, hotspots_shown : pandas.DataFrame or None, str
        The hot spot cells the map draws and the rule in words: the dashboard map's default rule
        (``app.dashboard.hot_spot_cells(hotspots, "top")``: the strongest hot cells at 99%
        confidence, at most 1% of the city's cells).
    places : list of dict
        Next week's places listed under the forecast map (rank, district, community area, expected).
    charts : dict
        name -> PNG bytes.
    unavailable : dict
        layer -> message.
    definitions : list of dict
        The categories shown (name, label, unit, rule, definition, source).
    """

    as_of: dt.date
    overview: Any
    compstat: Any
    trends: list
    district: str | None = None
    numbers: list = field(default_factory=list)
    district_tables: list = field(default_factory=list)
    hotspots: Any = None
    hotspots_drawn: Any = None
    hotspots_shown: str = ""
    forecast: Any = None
    places: list = field(default_factory=list)
    charts: dict = field(default_factory=dict)
    unavailable: dict = field(default_factory=dict)
    definitions: list = field(default_factory=list)
    city: str = "Chicago"
    #: "Did it work?": the SDSC districts evaluated on shootings up to as_of (None: see ``unavailable``)
    evaluation: Any = None
    #: texts of the notes section (computed with the figures)
    notes: dict = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"District {self.district}" if self.district is not None else self.city

    def to_html(self) -> str:
        import jinja2

        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
                                 autoescape=jinja2.select_autoescape(["html"]))
        env.filters["num"] = fmt_num
        env.filters["pct"] = fmt_pct
        env.filters["plain"] = plain_source
        env.filters["short"] = _short
        charts = {k: "data:image/png;base64," + base64.b64encode(v).decode("ascii") for k, v in self.charts.items()}
        return env.get_template("brief.html").render(
            b=self, charts=charts, vintage=self.overview.meta.get("vintage") or {}, method_names=METHOD_NAMES,
            generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))

    def write(self, path: str | Path) -> Path:
        """Write ``.html`` or ``.pdf`` (by suffix)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".html", ".htm", ".pdf"):
            raise ParameterError(f"--out {path}: use a .html or .pdf file name")
        html = self.to_html()
        if suffix == ".pdf":
            try:
                from weasyprint import HTML
            except (ImportError, OSError) as exc:
                raise CrimescopeError(
                    f"PDF output needs WeasyPrint and its system libraries (pango): {exc}") from exc
            HTML(string=html, base_url=str(path.parent)).write_pdf(str(path))
        else:
            path.write_text(html, encoding="utf-8")
        return path


# ------------------------------------------------------------------ the figures
def _value(v):
    return None if v is None or str(v) == "<NA>" or (isinstance(v, float) and v != v) else v


def _cell(r) -> dict:
    """One CompStat cell for the brief: count, the year before, change, test label, colour."""
    if r is None:
        return {"count": None, "prev": None, "pct": None, "label": "no record in either year", "flagged": False,
                "direction": None}
    label = str(r["label"]) if _value(r["label"]) is not None else "not tested"
    flagged = bool(r["flagged"])
    direction = ("up" if label.startswith("up") else "down" if label.startswith("down") else None) if flagged else None
    count = _value(r["count"])
    prev = _value(r["prev_count"])
    pct = _value(r["pct_change"])
    return {"count": None if count is None else int(count), "prev": None if prev is None else int(prev),
            "pct": None if pct is None else float(pct), "label": label, "flagged": flagged, "direction": direction}


def _index(table) -> dict:
    """(category, district or None, period) -> row dict of a CompStat table."""
    out = {}
    for r in table.to_dict(orient="records"):
        d = None if r["area"] == "citywide" else _value(r["district"])
        out[r["category"], "citywide" if r["area"] == "citywide" else (None if d is None else str(int(d))),
            r["period"]] = r
    return out


def _pace_range(low, high) -> str | None:
    if low is None or high is None or low != low or high != high:
        return None
    lo, hi = math.floor(float(low)), math.ceil(float(high))
    return f"{lo:,}" if lo == hi else f"{lo:,}\u2013{hi:,}"


def _district_codes(ctx, compstat) -> tuple[list[str], list[str]]:
    """(districts listed, boundary districts without a record in the table's spans)."""
    from ..web import views

    t = compstat.table
    present = {str(int(d)) for d in t.loc[t["area"] == "district", "district"].dropna()}
    try:
        ids = list(views.area_ids(ctx, "district"))
    except (CrimescopeError, OSError):  # a city without district boundaries: the districts counted
        ids = sorted(present, key=lambda c: (len(c), c))
    return [c for c in ids if c in present], [c for c in ids if c not in present]


def _check_district(ctx, district) -> str | None:
    from ..web import views

    if district is None:
        return None
    try:
        ids = list(views.area_ids(ctx, "district"))
    except (CrimescopeError, OSError) as exc:
        raise ParameterError(f"--district: {ctx.profile.name} has no police district boundaries ({exc})") from exc
    code = str(district).strip()
    if code.isdigit():
        code = str(int(code))
    if code not in ids:
        raise ParameterError(f"--district {district}: there is no such police district; "
                             f"{ctx.profile.name}'s districts are {', '.join(ids)}")
    return code


def _numbers(ctx, a, compstat, overview, district) -> tuple[list, list]:
    """Page 1's rows (one per CompStat category) and the reasons a pace is missing."""
    from ..stats.pace import pace
    from ..web import views

    idx = _index(compstat.table)
    key = "citywide" if district is None else district
    ov = {r["category"]: r for r in overview.table.to_dict(orient="records")}
    rows, no_pace = [], []
    for c in compstat.meta["categories"]:
        cat = views._category(c, ctx)
        row = {"category": c, "label": cat.label, "unit": cat.unit}
        for p, _t in PERIODS:
            row[p] = _cell(idx.get((c, key, p)))
        if district is None:
            o = ov.get(c, {})
            row["pace"] = _pace_range(_value(o.get("pace_low_80")), _value(o.get("pace_high_80")))
            row["pace_estimate"] = _value(o.get("pace"))
        else:
            try:
                pt = pace(ctx.dataset(), c, a, district=int(district)).table.iloc[0]
                row["pace"], row["pace_estimate"] = _pace_range(pt["low_80"], pt["high_80"]), float(pt["pace"])
            except CrimescopeError as exc:
                row["pace"], row["pace_estimate"] = None, None
                no_pace.append(_no_pace(cat, str(exc)))
        if row["pace"] is None and district is None:
            prefix = f"{c}: no pace ("
            no_pace += [_no_pace(cat, n[len(prefix):].rstrip(")")) for n in overview.meta.get("notes", [])
                        if n.startswith(prefix)]
        rows.append(row)
    return rows, no_pace


def _no_pace(cat, why: str) -> str:
    """Why a category has no "on pace for", in the reader's words (its label, not its name)."""
    name = _short(cat.label).lower()
    return f"{_short(cat.label)}: no estimate, because the " + re.sub(rf"\b{re.escape(cat.name)}\b", name, why)


def _district_tables(ctx, compstat, codes, categories) -> list:
    from ..web import views

    idx = _index(compstat.table)
    out = []
    for c in categories:
        if c not in compstat.meta["categories"]:
            continue
        cat = views._category(c, ctx)
        rows = [{"district": d, "ytd": _cell(idx.get((c, d, "ytd"))), "28d": _cell(idx.get((c, d, "28d")))}
                for d in codes]
        city = {p: _cell(idx.get((c, "citywide", p))) for p in ("ytd", "28d")}
        listed = sum(r["ytd"]["count"] or 0 for r in rows)
        out.append({"category": c, "label": cat.label, "unit": cat.unit, "rows": rows, "city": city,
                    "outside": (city["ytd"]["count"] or 0) - listed})
    return out


def _places(outlines, table, district, n) -> list:
    """Next week's flagged cells with their district and community area (by the cell's centre)."""
    rows = []
    for r in table.itertuples(index=False):
        d, _ = outlines.locate("district", r.lon, r.lat)
        ca_code, ca_name = outlines.locate("community_area", r.lon, r.lat)
        rows.append({"rank": int(r.rank), "district": d, "community_area": ca_name or ca_code,
                     "expected": float(r.expected), "lon": float(r.lon), "lat": float(r.lat)})
    rows.sort(key=lambda x: x["rank"])
    for i, x in enumerate(rows, start=1):
        x["place"] = i  # 1 = the city's first place next week
    if district is not None:
        rows = [x for x in rows if x["district"] == district]
    return rows[:n]


def _zoom_box(places, radius_deg: float = 0.035, pad_deg: float = 0.008):
    """(lon0, lat0, lon1, lat1) around the cluster of listed places nearest their median (within
    ``radius_deg``, about two miles), or None when fewer than three places lie in it."""
    import statistics

    if len(places) < 3:
        return None
    mx, my = statistics.median(p["lon"] for p in places), statistics.median(p["lat"] for p in places)
    near = [p for p in places if abs(p["lon"] - mx) <= radius_deg and abs(p["lat"] - my) <= radius_deg]
    if len(near) < 3:
        return None
    lons, lats = [p["lon"] for p in near], [p["lat"] for p in near]
    return (min(lons) - pad_deg, min(lats) - pad_deg, max(lons) + pad_deg, max(lats) + pad_deg)


def build_brief(store_path, as_of=None, *, shared_dir=None, source=None, district=None) -> Brief:
    """Compute the brief's figures for the week ending ``as_of`` (default: the last complete day)
    of the city ``source`` (default Chicago), or of its police district ``district``.

    A missing reference file is a SetupError first; a district the boundaries do not hold is a
    ParameterError (CLI exit 2) before anything is computed.
    """
    from ..datasets import get_profile
    from ..reference import require_reference
    from ..stats.pace import METHOD as PACE_METHOD
    from ..stats.query import as_date, same_day_year_ago
    from ..web import views
    from ..web._context import WebContext
    from . import brief_charts as charts

    prof = get_profile(source)
    require_reference(prof, shared_dir)
    if prof.key == "chicago":
        trend_categories, map_category, table_categories = TREND_CATEGORIES, MAP_CATEGORY, DISTRICT_CATEGORIES
    else:
        trend_categories = tuple(prof.default_categories[:2]) or (prof.default_category,)
        map_category = prof.default_category
        table_categories = trend_categories
    ctx = WebContext(store_path, shared_dir=shared_dir, source=prof.key)
    try:
        code = _check_district(ctx, district)
        a = as_date(as_of, "as_of") if as_of is not None else views.as_of_default(ctx)
        overview = views.overview(ctx, a, [])
        compstat = views.compstat(ctx, a, [])
        start = a - dt.timedelta(days=364)
        kind, area = ("citywide", None) if code is None else ("district", int(code))
        trends = [views.trends(ctx, c, kind, area, start, a, "week") for c in trend_categories]
        brief = Brief(as_of=a, overview=overview, compstat=compstat, trends=trends, district=code, city=prof.name)
        brief.numbers, no_pace = _numbers(ctx, a, compstat, overview, code)
        codes, silent = _district_codes(ctx, compstat)
        brief.district_tables = _district_tables(ctx, compstat, codes, table_categories)
        for i, r in enumerate(trends):
            label = _short(r.meta["label"])
            brief.charts[f"trend_{i}"] = charts.trend_chart(
                r.table, f"{label}, {brief.where}, {start:%b} {start.day}, {start.year} to {a:%b} {a.day}, {a.year}, by week",
                r.meta["unit"].split(" (")[0], label, start, a, r.meta.get("coverage", {}).get("holds"))
        try:
            outlines = charts.load_outlines(prof, shared_dir)
        except (CrimescopeError, OSError) as exc:
            outlines = charts.Outlines()
            brief.unavailable["outlines"] = f"not available: {exc}"
        hs_start = a - dt.timedelta(days=HOTSPOT_DAYS - 1)
        try:
            hs = views.hotspots(ctx, map_category, hs_start, a, 1000)
            brief.hotspots = hs
            # the dashboard map's default rule, the same function: the strongest hot cells, at most 1%
            from ..app.dashboard import hot_spot_cells

            drawn, brief.hotspots_shown, _ = hot_spot_cells(hs, "top")
            brief.hotspots_drawn = drawn
            present = sorted({int(b) for b in drawn["gi_bin"]}, reverse=True)
            brief.charts["hotspots"] = charts.cell_map(
                outlines, drawn, lambda r: charts.HOT_COLOURS[int(r.gi_bin)],
                [(charts.HOT_COLOURS[b], charts.HOT_LABELS[b]) for b in present], district=code, edge="#6b0f0f",
                title=f"The strongest hot cells: {len(drawn):,} of {hs.meta['cells']:,} (99% confidence, "
                      "at most 1% of the city's cells)")
        except CrimescopeError as exc:
            brief.unavailable["hotspots"] = f"not available: {exc}"
        try:
            fc = views.forecast(ctx, map_category, a + dt.timedelta(days=1), 1000, "best")
            brief.forecast = fc
            brief.places = _places(outlines, fc.table, code, TOP_PLACES if code is None else 15)
            top = float(fc.table["expected"].max() or 1.0)
            import matplotlib

            cmap = matplotlib.colormaps["YlOrRd"]
            lo, hi = float(fc.table["expected"].min()), top
            colour = lambda r: cmap(0.35 + 0.65 * r.expected / top)  # noqa: E731
            numbers = [(p["lon"], p["lat"], str(p["place"])) for p in brief.places]
            zoom = _zoom_box(brief.places) if code is None else None
            brief.charts["forecast"] = charts.cell_map(
                outlines, fc.table, colour,
                [(matplotlib.colors.to_hex(cmap(0.35 + 0.65 * hi / top)), f"most expected ({hi:.2f} a week)"),
                 (matplotlib.colors.to_hex(cmap(0.35 + 0.65 * lo / top)), f"least of these ({lo:.2f} a week)")],
                district=code, edge="#000", numbers=numbers, frame=zoom)
            if zoom is not None:  # the listed places are close together: an enlargement beside their table
                brief.charts["forecast_zoom"] = charts.cell_map(outlines, fc.table, colour, [], edge="#000",
                                                                numbers=numbers, bounds=zoom, width_in=3.6)
        except CrimescopeError as exc:
            brief.unavailable["forecast"] = f"not available: {exc}"
        try:
            from ..evaluate.casestudy import brief_evaluation

            brief.evaluation = brief_evaluation(ctx.view(), a)
        except CrimescopeError as exc:
            brief.unavailable["evaluation"] = f"not available: {exc}"
        names = list(dict.fromkeys(list(compstat.meta["categories"]) + list(trend_categories)))
        brief.definitions = [views._category(n, ctx).as_dict() for n in names]
        p = same_day_year_ago(a)
        brief.notes = {
            "periods": (f"Last week = the 7 days ending {a:%b %d, %Y}; last 28 days = the 28 days ending then; "
                        f"year to date = January 1 to then. Each is compared with the same days a year earlier "
                        f"(ending {p:%b %d, %Y})."),
            "pace": PACE_METHOD, "no_pace": no_pace,
            "silent_districts": silent,
            "hotspot_period": (hs_start, a),
        }
        if brief.forecast is not None:
            brief.notes["model"] = plain_model(brief.forecast.meta["model"])
            f0 = brief.forecast.meta["as_of"]
            brief.notes["forecast_span"] = (f0, f0 + dt.timedelta(days=int(brief.forecast.meta["horizon_days"]) - 1))
            pai = brief.forecast.meta.get("pai")
            brief.notes["accuracy"] = (
                f"In past weeks, the places flagged this way held {pai:.1f} times the share of events their "
                "area would suggest (backtested predictive accuracy index)." if pai is not None else
                "Its accuracy has not been measured on this data yet (no backtest has been run): read the map "
                "as where events have concentrated, not as a tested prediction.")
        return brief
    finally:
        ctx.close()


def write_brief(store_path, out, as_of=None, *, shared_dir=None, source=None, district=None) -> Path:
    """Build the brief and write it to ``out`` (.html or .pdf)."""
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise ParameterError(f"--out {out}: use a .html or .pdf file name")
    return build_brief(store_path, as_of, shared_dir=shared_dir, source=source, district=district).write(out)
