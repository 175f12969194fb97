"""Build and write the weekly brief.

The figures come from the same functions as the dashboard (:mod:`crimescope.web.views`,
which call ``crimescope.stats`` / ``spatial`` / ``forecast``), so the brief and the
dashboard agree. Charts are static matplotlib PNGs embedded as base64 data URIs,
so the HTML is a single file that works offline; the PDF is rendered from that HTML
with WeasyPrint.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CrimescopeError, ParameterError

__all__ = ["Brief", "build_brief", "write_brief", "TREND_CATEGORIES", "MAP_CATEGORY"]

TREND_CATEGORIES = ("shooting", "homicide")
MAP_CATEGORY = "shooting"
HOTSPOT_DAYS = 365


@dataclass
class Brief:
    """The brief's content.

    Attributes
    ----------
    as_of : date
        Last day covered.
    overview, compstat : StatResult
        YTD per category, and the CompStat table (citywide rows are shown).
    trends : list of StatResult
        Weekly series with the year before, one per category in ``TREND_CATEGORIES``.
    hotspots, forecast : StatResult or None
        Map layers; None with the reason in ``unavailable`` when they could not be computed.
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
    hotspots: Any = None
    forecast: Any = None
    charts: dict = field(default_factory=dict)
    unavailable: dict = field(default_factory=dict)
    definitions: list = field(default_factory=list)
    store_name: str = ""
    #: "Did it work?": the SDSC districts evaluated on shootings up to as_of (None: see ``unavailable``)
    evaluation: Any = None

    def to_html(self) -> str:
        import jinja2
        import pandas as pd

        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
                                 autoescape=jinja2.select_autoescape(["html"]))
        env.filters["pct"] = lambda v: "n/a" if v is None or v != v else f"{v:+.1f}%"
        env.filters["nodata"] = lambda v: "no data" if v is None or v != v else v  # not held: never 0
        charts = {k: "data:image/png;base64," + base64.b64encode(v).decode("ascii") for k, v in self.charts.items()}
        cs = self.compstat.table
        city = cs[cs["area"] == "citywide"]
        rows = []
        for cat, g in city.groupby("category", sort=False):
            r = {"category": cat}
            for p in g.itertuples(index=False):
                # a span the store does not hold has no figure (NA): shown as such, never as 0
                r[p.period] = {"count": None if p.count is pd.NA or p.count != p.count else int(p.count),
                               "prev": None if p.prev_count is pd.NA or p.prev_count != p.prev_count
                               else int(p.prev_count),
                               "pct": None if p.pct_change is None or p.pct_change != p.pct_change else float(p.pct_change),
                               "flagged": bool(getattr(p, "flagged", False)), "label": getattr(p, "label", None)}
            rows.append(r)
        from ..stats.provenance import jsonable

        return env.get_template("brief.html").render(
            b=self, charts=charts, ytd=jsonable(self.overview.to_dict()["rows"]), compstat_rows=rows,
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


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _trend_chart(res) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import pandas as pd

    t = res.table
    fig, ax = plt.subplots(figsize=(7.2, 2.4))
    cur = pd.to_numeric(t["count"], errors="coerce")  # None (no data) -> gap
    prior = pd.to_numeric(t["prior_count"], errors="coerce")
    x = list(range(len(t)))
    ax.plot(x, cur, color="#b2182b", marker="o", ms=2.5, lw=1.3, label=f"{res.meta['label']}")
    ax.plot(x, prior, color="#777", ls=":", lw=1.3, label="52 weeks earlier")
    step = max(1, len(t) // 6)
    ax.set_xticks(x[::step], [str(v) for v in t["period"]][::step], fontsize=7, rotation=20, ha="right")
    ax.set_ylabel(res.meta["unit"].split(" (")[0], fontsize=8)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(res.meta["title"], fontsize=8)
    ax.tick_params(labelsize=7)
    return _png(fig)


def _outlines(shared_dir, profile=None):
    """Rings (lon/lat) of the city's outline area kind (Chicago: community areas)."""
    from ..datasets import get_profile
    from ..errors import ParameterError
    from ..web.geometry import geojson_bytes

    prof = get_profile(profile)
    if prof.outline is None:
        raise ParameterError(f"{prof.name}: no boundaries are shipped, so the maps have no outlines")
    doc = json.loads(geojson_bytes(prof.outline, shared_dir, prof.key))
    rings = []
    for f in doc["features"]:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        for p in polys:
            rings.append(p[0])
    return rings


def _cell_map(rings, table, colour, title: str, legend: str) -> bytes:
    import math

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    fig, ax = plt.subplots(figsize=(3.6, 4.4))
    for r in rings:
        xs, ys = zip(*r)
        ax.plot(xs, ys, color="#999", lw=0.3)
    for row in table.itertuples(index=False):
        ax.add_patch(Rectangle((row.lon_min, row.lat_min), row.lon_max - row.lon_min, row.lat_max - row.lat_min,
                               facecolor=colour(row), edgecolor="none"))
    lat = float(table["lat"].mean()) if len(table) else 41.84  # the map's own latitude (Chicago's if empty)
    ax.set_aspect(1 / math.cos(math.radians(lat)))
    ax.set_axis_off()
    ax.set_title(title, fontsize=7)
    ax.text(0.0, -0.02, legend, transform=ax.transAxes, fontsize=6, va="top")
    return _png(fig)


def build_brief(store_path, as_of=None, *, shared_dir=None, source=None) -> Brief:
    """Compute the brief's figures for the week ending ``as_of`` (default: the last complete day)
    of the city ``source`` (default Chicago). A missing reference file is a SetupError first."""
    from ..datasets import get_profile
    from ..reference import require_reference
    from ..stats.query import as_date
    from ..web import views
    from ..web._context import WebContext

    prof = get_profile(source)
    require_reference(prof, shared_dir)
    if prof.key == "chicago":
        trend_categories, map_category = TREND_CATEGORIES, MAP_CATEGORY
    else:
        trend_categories = tuple(prof.default_categories[:2]) or (prof.default_category,)
        map_category = prof.default_category
    ctx = WebContext(store_path, shared_dir=shared_dir, source=prof.key)
    try:
        a = as_date(as_of, "as_of") if as_of is not None else views.as_of_default(ctx)
        overview = views.overview(ctx, a, [])
        compstat = views.compstat(ctx, a, [])
        trends = [views.trends(ctx, c, "citywide", None, a - dt.timedelta(days=364), a, "week")
                  for c in trend_categories]
        brief = Brief(as_of=a, overview=overview, compstat=compstat, trends=trends,
                      store_name=Path(store_path).name)
        for i, r in enumerate(trends):
            brief.charts[f"trend_{i}"] = _trend_chart(r)
        try:
            rings = _outlines(shared_dir, prof)
        except CrimescopeError as exc:
            rings = []
            brief.unavailable["outlines"] = f"not available: {exc}"
        try:
            hs = views.hotspots(ctx, map_category, a - dt.timedelta(days=HOTSPOT_DAYS - 1), a, 1000)
            brief.hotspots = hs
            cols = {3: "#d62f27", 2: "#ed7551", 1: "#fab984", -1: "#c0ccbe", -2: "#849eba", -3: "#4575b5"}
            brief.charts["hotspots"] = _cell_map(rings, hs.table, lambda r: cols[int(r.gi_bin)], hs.meta["title"],
                                                 "red: hot spots (90/95/99%), blue: cold spots; Gi* with FDR")
        except CrimescopeError as exc:
            brief.unavailable["hotspots"] = f"not available: {exc}"
        try:
            fc = views.forecast(ctx, map_category, a + dt.timedelta(days=1), 1000, "best")
            brief.forecast = fc
            top = float(fc.table["expected"].max() or 1.0)
            import matplotlib

            cmap = matplotlib.colormaps["magma_r"]
            brief.charts["forecast"] = _cell_map(rings, fc.table, lambda r: cmap(0.25 + 0.75 * r.expected / top),
                                                 fc.meta["title"], "dark: more expected events")
        except CrimescopeError as exc:
            brief.unavailable["forecast"] = f"not available: {exc}"
        try:
            from ..evaluate.casestudy import brief_evaluation

            brief.evaluation = brief_evaluation(ctx.view(), a)
        except CrimescopeError as exc:
            brief.unavailable["evaluation"] = f"not available: {exc}"
        names = list(dict.fromkeys(list(compstat.meta["categories"]) + list(trend_categories)))
        brief.definitions = [views._category(n, ctx).as_dict() for n in names]
        return brief
    finally:
        ctx.close()


def write_brief(store_path, out, as_of=None, *, shared_dir=None, source=None) -> Path:
    """Build the brief and write it to ``out`` (.html or .pdf)."""
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise ParameterError(f"--out {out}: use a .html or .pdf file name")
    return build_brief(store_path, as_of, shared_dir=shared_dir, source=source).write(out)
