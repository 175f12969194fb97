"""The brief's pictures: weekly trend bars with partial weeks marked, and large labelled maps.

Every function returns PNG bytes (matplotlib, Agg). The maps draw the area outlines of the
city (districts thick and numbered; community areas thin, named when the map shows one
district), the grid cells of a layer with a fill *and* an outline so that a single 1,000 ft
cell stays visible at A4 size, and a legend. Nothing here computes a figure: the callers
pass the views' tables.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["Outlines", "load_outlines", "trend_chart", "week_marks", "cell_map", "HOT_COLOURS", "HOT_LABELS"]

#: Gi* bins -> fill colour (hot: reds by confidence; cold: blues)
HOT_COLOURS = {3: "#b2182b", 2: "#ef6548", 1: "#fdbb84", -1: "#c6dbef", -2: "#6baed6", -3: "#2171b5"}
HOT_LABELS = {3: "hot spot, 99% confidence", 2: "hot spot, 95%", 1: "hot spot, 90%",
              -1: "cold spot, 90%", -2: "cold spot, 95%", -3: "cold spot, 99%"}


#: a white box behind a chart's labels, so bars and lines do not run through the text
_BOX = {"boxstyle": "round,pad=0.25", "fc": "white", "ec": "#bbb", "lw": 0.4, "alpha": 0.95}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig, dpi: int = 150) -> bytes:
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


@dataclass
class Outlines:
    """Area outlines in lon/lat: ``{kind: [(code, name or None, shapely geometry)]}``."""

    kinds: dict = field(default_factory=dict)

    def get(self, kind: str) -> list:
        return self.kinds.get(kind, [])

    def geometry(self, kind: str, code: str):
        for c, _n, g in self.get(kind):
            if c == str(code):
                return g
        return None

    def locate(self, kind: str, lon: float, lat: float) -> tuple[str | None, str | None]:
        """(code, name) of the unit of ``kind`` holding the point, or (None, None)."""
        from shapely.geometry import Point

        p = Point(lon, lat)
        for c, n, g in self.get(kind):
            if g.contains(p):
                return c, n
        return None, None


def load_outlines(profile, shared_dir=None, kinds=("district", "community_area")) -> Outlines:
    """The shipped boundaries of ``kinds`` that the city has (simplified, WGS84)."""
    from shapely.geometry import shape

    from ..web.geometry import geojson_bytes

    out = Outlines()
    for kind in kinds:
        if kind not in getattr(profile, "area_kinds", {}) or not profile.area_kind(kind).has_boundary:
            continue
        doc = json.loads(geojson_bytes(kind, shared_dir, profile.key))
        out.kinds[kind] = [(str(f["properties"]["unit"]), f["properties"].get("name"), shape(f["geometry"]))
                           for f in doc["features"]]
    return out


def _week_label(d: dt.date) -> str:
    return f"{d:%b} {d.day}"


def trend_chart(table, title: str, unit: str, label: str, start: dt.date, end: dt.date, holds=None) -> bytes:
    """Weekly bars of this year's counts and a line of the year before (52 weeks earlier).

    A week cut by the span (the first and last week may hold fewer than 7 days) or by the
    store's coverage is drawn hatched and lighter and labelled with its days, so that it
    does not read as a dip; a week without data has no bar and says "no data".
    """
    import pandas as pd

    plt = _plt()
    from matplotlib.patches import Patch

    t = table.reset_index(drop=True)
    cur = pd.to_numeric(t["count"], errors="coerce").astype("float64")  # NA (no data) -> NaN: a gap
    prior = pd.to_numeric(t["prior_count"], errors="coerce").astype("float64")
    marks = week_marks(t, start, end, holds)
    days = [m["days"] for m in marks]
    partial = [m["partial"] for m in marks]
    prior_partial = [m["prior_partial"] for m in marks]
    x = list(range(len(t)))
    fig, ax = plt.subplots(figsize=(7.4, 2.5))
    for i, (v, p) in enumerate(zip(cur, partial)):
        if v != v:  # no data (not held): no bar, never 0
            ax.text(i, 0, "no data", rotation=90, fontsize=5.5, ha="center", va="bottom", color="#8a4b00")
            continue
        if p:
            ax.bar(i, v, width=0.8, color="#f3c5c5", edgecolor="#b2182b", hatch="////", lw=0.6)
        else:
            ax.bar(i, v, width=0.8, color="#d6604d", edgecolor="none")
    complete_prior = prior.where([not p for p in prior_partial])
    ax.plot(x, complete_prior, color="#333", ls="-", lw=1.1, marker="o", ms=1.8, label="52 weeks earlier")
    for i, p in enumerate(prior_partial):  # the year before's week is cut: an open marker, off the line
        if p and prior[i] == prior[i]:
            ax.plot([i], [prior[i]], marker="o", ms=3.5, mfc="white", mec="#333", ls="none")
            if not partial[i]:  # else said with this year's label
                ax.annotate(f"year before: partial\nweek, {marks[i]['prior_days']} of 7 days", (i, prior[i]),
                            xytext=(0, 10), textcoords="offset points", ha="right" if i > len(t) / 2 else "left",
                            fontsize=5.5, color="#333", bbox=_BOX, zorder=8)
    top = max([v for v in list(cur) + list(prior) if v == v] or [1])
    for i, p in enumerate(partial):
        if p:
            also = (f"\n(year before: {marks[i]['prior_days']} of 7,\nopen circle)" if prior_partial[i]
                    and prior[i] == prior[i] else "")
            ax.annotate(f"partial week:\n{days[i]} of 7 days{also}",
                        (i, (cur[i] if cur[i] == cur[i] else 0)),
                        xytext=(8 if i < len(t) / 2 else -8, 30), textcoords="offset points",
                        ha="left" if i < len(t) / 2 else "right", fontsize=6, color="#7a1616", bbox=_BOX, zorder=8,
                        arrowprops={"arrowstyle": "-", "color": "#7a1616", "lw": 0.5})
    step = max(1, len(t) // 9)
    ax.set_xticks(x[::step], [_week_label(k) for k in t["period"]][::step], fontsize=6.5)
    ax.set_xlim(-0.7, len(t) - 0.3)
    ax.set_ylim(0, top * 1.25 + 1)
    ax.set_ylabel(f"{unit} per week", fontsize=7)
    ax.tick_params(labelsize=6.5)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _p: f"{v:,.0f}"))
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    handles = [Patch(color="#d6604d", label=f"{label}, week starting Monday"),
               Patch(facecolor="#f3c5c5", edgecolor="#b2182b", hatch="////", label="partial week (fewer days)"),
               ax.get_lines()[0]]
    ax.legend(handles=handles, fontsize=6, loc="upper left", ncol=3, frameon=False)
    ax.set_title(title, fontsize=8, loc="left")
    return _png(fig)


def _held_days(lo: dt.date, hi: dt.date, holds) -> int:
    """Days of ``lo..hi`` inside the held spans ``[(a, b)]``."""
    n = 0
    for a, b in holds:
        a, b = max(a, lo), min(b, hi)
        n += max(0, (b - a).days + 1)
    return n


def week_marks(table, start: dt.date, end: dt.date, holds=None) -> list[dict]:
    """Per week of a trends table: ``days`` of it counted (inside ``start..end`` and the store's
    held spans ``holds``, default: all), ``partial`` (this year's week has fewer than 7 days
    counted, but some) and ``prior_partial`` (the week 52 weeks earlier has fewer than 7 days
    counted inside the same span a year earlier, but some). A week with no day held has no
    count at all ("no data"), which is neither."""
    from ..stats.query import same_day_year_ago

    held = [(a if isinstance(a, dt.date) else dt.date.fromisoformat(str(a)),
             b if isinstance(b, dt.date) else dt.date.fromisoformat(str(b))) for a, b in (holds or [])]
    ps, pe = same_day_year_ago(start), same_day_year_ago(end)
    out = []
    for k in table["period"]:
        lo, hi = max(k, start), min(k + dt.timedelta(days=6), end)
        days = _held_days(lo, hi, held) if held else (hi - lo).days + 1
        p = k - dt.timedelta(days=364)
        plo, phi = max(p, ps), min(p + dt.timedelta(days=6), pe)
        pdays = (_held_days(plo, phi, held) if held else (phi - plo).days + 1) if phi >= plo else 0
        out.append({"days": days, "partial": 0 < days < 7, "prior_days": pdays, "prior_partial": 0 < pdays < 7})
    return out


def _bounds(geoms, pad: float = 0.04):
    xs0, ys0, xs1, ys1 = zip(*(g.bounds for g in geoms))
    x0, y0, x1, y1 = min(xs0), min(ys0), max(xs1), max(ys1)
    dx, dy = (x1 - x0) * pad, (y1 - y0) * pad
    return x0 - dx, y0 - dy, x1 + dx, y1 + dy


def _draw(ax, geom, **kw):
    for part in getattr(geom, "geoms", [geom]):
        xs, ys = part.exterior.xy
        ax.plot(xs, ys, **kw)


def _label(ax, text, geom, size, weight="bold", colour="#111"):
    import matplotlib.patheffects as pe

    p = geom.representative_point()
    ax.text(p.x, p.y, text, fontsize=size, ha="center", va="center", weight=weight, color=colour, zorder=6,
            path_effects=[pe.withStroke(linewidth=2.2, foreground="white")])


def cell_map(outlines: Outlines, table, fill: Callable[[Any], str], legend: list[tuple[str, str]], *,
             district: str | None = None, edge: str = "#333", numbers=(), title: str = "",
             bounds=None, frame=None, width_in: float = 6.6) -> bytes:
    """A large map of grid cells over the district (numbered) and community-area outlines.

    ``fill(row)`` gives a cell's colour; ``legend`` is ``[(colour, text)]``. Each cell is drawn
    with its fill and an ``edge`` outline at least about 1.5 points wide, so a single cell is
    visible. ``numbers``: ``[(lon, lat, text)]`` written beside cells (the places listed under the map).
    ``district``: zoom to that district, draw it thick and name its community areas.
    ``bounds``: (lon0, lat0, lon1, lat1) of an enlargement (community areas named, no legend);
    ``frame``: such a box drawn dashed on this map ("enlarged").
    """
    import shapely
    import matplotlib.patheffects as pe
    from matplotlib.patches import Patch, Rectangle

    plt = _plt()
    dists, cas = outlines.get("district"), outlines.get("community_area")
    focus = outlines.geometry("district", district) if district is not None else None
    if bounds is not None:
        x0, y0, x1, y1 = bounds
    elif focus is not None:
        x0, y0, x1, y1 = _bounds([focus], pad=0.12)
    elif dists or cas:
        x0, y0, x1, y1 = _bounds([g for _c, _n, g in (dists or cas)], pad=0.01)
    elif len(table):
        x0, y0, x1, y1 = (table["lon_min"].min(), table["lat_min"].min(), table["lon_max"].max(),
                          table["lat_max"].max())
    else:
        x0, y0, x1, y1 = 0.0, 0.0, 1.0, 1.0
    lat = (y0 + y1) / 2
    aspect = 1 / math.cos(math.radians(lat))
    w_in = width_in
    h_in = min(8.6, max(2.5, w_in * (y1 - y0) * aspect / max(x1 - x0, 1e-9)))
    fig, ax = plt.subplots(figsize=(w_in, h_in))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(aspect)
    ax.set_axis_off()
    for _c, _n, g in cas:
        _draw(ax, g, color="#b8b8b8", lw=0.35, zorder=1)
    for c, _n, g in dists:
        _draw(ax, g, color="#555", lw=0.9, zorder=2)
    # cells: fill + outline; the outline is at least ~1.5 pt so a 1,000 ft cell stays visible
    cell_pt = (float((table["lon_max"] - table["lon_min"]).median()) / (x1 - x0) * w_in * 72) if len(table) else 9.0
    for row in table.itertuples(index=False):
        ax.add_patch(Rectangle((row.lon_min, row.lat_min), row.lon_max - row.lon_min, row.lat_max - row.lat_min,
                               facecolor=fill(row), edgecolor=edge, lw=0.6, zorder=3))
        if cell_pt >= 4:  # big enough on the page as it is
            continue
        ax.plot([(row.lon_min + row.lon_max) / 2], [(row.lat_min + row.lat_max) / 2], marker="s", ms=3.2,
                mfc=fill(row), mec=edge, mew=0.6, zorder=3, ls="none")
    for lon, lat_, text in numbers:
        ax.annotate(text, (lon, lat_),
                    xytext=(4, 3), textcoords="offset points", fontsize=6.5, weight="bold", color="#000",
                    zorder=7, path_effects=[pe.withStroke(linewidth=2, foreground="white")])
    if focus is not None:
        _draw(ax, focus, color="#000", lw=2.2, zorder=5)
        for c, n, g in cas:
            if g.intersects(focus) and g.intersection(focus).area > 0.05 * g.area:
                _label(ax, n or f"area {c}", g.intersection(focus), 7, weight="normal", colour="#333")
        for c, _n, g in dists:
            if c != str(district) and g.representative_point().within(
                    __import__("shapely").geometry.box(x0, y0, x1, y1)):
                _label(ax, f"D{c}", g, 8, colour="#777")
        _label(ax, f"District {district}", focus, 10)
    elif bounds is not None:
        view = shapely.geometry.box(x0, y0, x1, y1)
        for c, n, g in cas:
            part = g.intersection(view)
            if not part.is_empty and part.area > 0.04 * view.area:
                _label(ax, n or f"area {c}", part, 6.5, weight="normal", colour="#333")
        for c, _n, g in dists:
            part = g.intersection(view)
            if not part.is_empty and part.area > 0.15 * view.area:
                _label(ax, f"District {c}", part, 7.5, colour="#555")
    else:
        for c, _n, g in dists:
            _label(ax, c, g, 9)
    if frame is not None:
        fx0, fy0, fx1, fy1 = frame
        ax.add_patch(Rectangle((fx0, fy0), fx1 - fx0, fy1 - fy0, facecolor="none", edgecolor="#1f4e9c", lw=1.2,
                               ls="--", zorder=8))
        ax.annotate("enlarged below", (fx1, fy1), xytext=(3, 2), textcoords="offset points", fontsize=6.5,
                    color="#1f4e9c", zorder=8, path_effects=[pe.withStroke(linewidth=2, foreground="white")])
    if bounds is not None:
        return _png(fig)
    handles = [Patch(facecolor=col, edgecolor=edge, lw=0.6, label=text) for col, text in legend]
    handles.append(Patch(facecolor="none", edgecolor="#555", lw=0.9,
                         label="police district (number)" if focus is None else "police district"))
    if cas:
        handles.append(Patch(facecolor="none", edgecolor="#b8b8b8", lw=0.5, label="community area"))
    if focus is None:  # the city: the empty corner south-west of it
        ax.legend(handles=handles, fontsize=7, loc="lower left", frameon=True, framealpha=0.92)
    else:  # a district fills the map: the legend goes under it
        ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.01), ncol=3, frameon=False)
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    return _png(fig)
