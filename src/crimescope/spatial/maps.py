"""Maps of spatial results: static (matplotlib, PNG/SVG) and interactive offline HTML (plotly).

Static maps draw the grid as an image in the projected CRS (equal scale on both
axes, feet), the community-area outlines in light grey and the city outline in
dark grey, a legend, and a title stating what is shown, the period and the rule.
Interactive maps are self-contained HTML files: plotly's JavaScript is inlined
(``include_plotlyjs=True``) and no tile server or CDN is used, so they open offline.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot global state).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ParameterError

__all__ = ["plot_bins", "plot_emerging", "plot_values", "plot_lorenz", "html_map", "unit_phrase", "BIN_COLORS",
           "CATEGORY_COLORS"]

#: ArcGIS-like colours of the Gi* confidence bins
BIN_COLORS = {3: "#d62f27", 2: "#ed7551", 1: "#fab984", 0: "#eeeeea", -1: "#c0ccbe", -2: "#849eba", -3: "#4575b5"}
CATEGORY_COLORS = {  # hot: reds/oranges/yellow/purple, cold: blues/teals; neighbours kept distinct
    "no_pattern": "#eeeeea",
    "intensifying_hot": "#99000d", "persistent_hot": "#ef3b2c", "consecutive_hot": "#ff7f00",
    "new_hot": "#7a0177", "diminishing_hot": "#fdae61", "sporadic_hot": "#fee08b",
    "oscillating_hot": "#c2a5cf", "historical_hot": "#bf9b7a",
    "intensifying_cold": "#053061", "persistent_cold": "#2166ac", "consecutive_cold": "#35978f",
    "new_cold": "#01665e", "diminishing_cold": "#92c5de", "sporadic_cold": "#c7eae5",
    "oscillating_cold": "#8073ac", "historical_cold": "#9e9ac8",
}
SOURCE_NOTE = "Data: City of Chicago Data Portal"


def _outline_segments(geom: Any) -> list[np.ndarray]:
    import shapely

    if geom is None:
        return []
    lines = shapely.get_parts(shapely.boundary(geom))
    segs = []
    for ln in np.atleast_1d(lines):
        for part in np.atleast_1d(shapely.get_parts(ln)):
            c = shapely.get_coordinates(part)
            if len(c) > 1:
                segs.append(c)
    return segs


def _context_outlines(units: Any) -> tuple[list, list]:
    """(light outlines of community areas, dark outline of the city) when the shared data exists."""
    light: list = []
    dark: list = []
    boundary = getattr(units, "boundary", None)
    try:
        from .units import AreaUnits

        ca = AreaUnits.load("community_area")
        if getattr(units, "crs", "EPSG:3435") == ca.crs:
            for g in ca.geometries:
                light += _outline_segments(g)
            if boundary is None:
                from .grid import chicago_boundary

                boundary = chicago_boundary()
    except ParameterError:  # no shared boundaries: draw what the units themselves carry
        pass
    if boundary is not None:
        dark = _outline_segments(boundary)
    return light, dark


def unit_phrase(units: Any) -> str:
    """What one unit is, for titles: ``'500 ft cell'``, ``'beat'``, ``'H3 res-9 hexagon'``."""
    return str(getattr(units, "unit_label", None) or getattr(units, "kind", "unit"))


def _new_axes(figsize=(8.0, 9.5)):
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=110, layout="constrained")
    ax = fig.add_subplot()
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(False)
    return fig, ax


def _draw_units(ax: Any, units: Any, codes: np.ndarray, cmap: Any, norm: Any, index: Any = None) -> None:
    """Paint per-unit values: an image for grids, polygons for area units and hexagons."""
    from matplotlib.collections import LineCollection, PolyCollection

    from .grid import Grid

    if isinstance(units, Grid):
        vals = np.full(units.n_cells, np.nan)
        if index is None:
            vals[:] = codes
        else:
            vals[np.asarray(index)] = codes
        img = np.ma.masked_invalid(units.to_full(vals))
        s = units.cell_size
        ax.imshow(img, origin="lower", cmap=cmap, norm=norm, interpolation="nearest",
                  extent=(units.x0, units.x0 + units.nx * s, units.y0, units.y0 + units.ny * s))
        # cells of the city with no value (not analysed) in a pale grey underneath
        if index is not None:
            base = np.ma.masked_invalid(units.to_full(np.where(np.isnan(vals), 0.0, np.nan)))
            from matplotlib.colors import ListedColormap

            ax.imshow(base, origin="lower", cmap=ListedColormap(["#f6f6f4"]), interpolation="nearest", zorder=0,
                      extent=(units.x0, units.x0 + units.nx * s, units.y0, units.y0 + units.ny * s))
    else:
        import shapely

        polys, vals = [], []
        for g, v in zip(units.geometries, codes):
            for part in shapely.get_parts(g):
                if part.geom_type == "Polygon":
                    polys.append(np.asarray(part.exterior.coords))
                    vals.append(v)
        pc = PolyCollection(polys, array=np.asarray(vals, float), cmap=cmap, norm=norm, edgecolors="#555555",
                            linewidths=0.3)
        ax.add_collection(pc)
        ax.autoscale_view()
    light, dark = _context_outlines(units)
    if light:
        ax.add_collection(LineCollection(light, colors="#9a9a9a", linewidths=0.35, zorder=3))
    if dark:
        ax.add_collection(LineCollection(dark, colors="#333333", linewidths=0.8, zorder=4))
    # frame the units themselves (context outlines beyond them are clipped)
    x0, y0, x1, y1 = _extent(units)
    pad = 0.01 * max(x1 - x0, y1 - y0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)


def _extent(units: Any) -> tuple[float, float, float, float]:
    from .grid import Grid

    if isinstance(units, Grid):
        s = units.cell_size
        return units.x0, units.y0, units.x0 + units.nx * s, units.y0 + units.ny * s
    import shapely

    return tuple(shapely.total_bounds(units.geometries))


def _finish(fig: Any, ax: Any, title: str, subtitle: str, path: Any, crs: Any = None) -> Any:
    import textwrap

    ax.set_title(textwrap.fill(title, 80), fontsize=12, loc="left", fontweight="bold")
    foot = textwrap.fill(subtitle, 125) + f"\n{SOURCE_NOTE}. {_projection_note(crs)}"
    ax.set_xlabel(foot, fontsize=7.5, color="#444444", loc="left")
    if path is not None:
        p = Path(path)
        if p.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise ParameterError(f"map output must end in .png, .svg or .pdf, got {p.name!r}")
        p.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(p)
    return fig


def _UNITS_OF(res: Any) -> Any:
    return getattr(res, "units", None) or getattr(getattr(res, "cube", None), "grid", None)


def _projection_note(crs: Any) -> str:
    from .grid import crs_unit

    crs = crs or "EPSG:3435"
    return f"Projection {crs} ({crs_unit(crs)[0]})."


def _scalebar(ax: Any, units: Any) -> None:
    import math

    from .grid import crs_unit

    per_unit = crs_unit(getattr(units, "crs", None))[2]
    if not math.isfinite(per_unit):
        return
    mile = 1609.344 / per_unit  # CRS units per international mile (5280.0 for US feet, to 1e-5)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    target = (x1 - x0) / mile / 6.0  # about a sixth of the width, rounded to 1-2-5
    nice = [v for v in (0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 20, 50) if v <= target]
    miles = nice[-1] if nice else 0.1
    L = mile * miles
    bx, by = x0 + 0.03 * (x1 - x0), y0 + 0.025 * (y1 - y0)
    ax.plot([bx, bx + L], [by, by], color="#222222", lw=2.5, solid_capstyle="butt", zorder=5)
    ax.text(bx + L / 2, by + 0.012 * (y1 - y0), f"{miles:g} mile{'s' if miles != 1 else ''}", ha="center", va="bottom", fontsize=8, zorder=5)


def plot_bins(res: Any, path: Any = None, title: str | None = None, **_: Any) -> Any:
    """Map of Gi* confidence bins (-3..3) with an ArcGIS-style legend."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    from ._events import period_label
    from .gistar import BIN_LABELS

    if res.units is None:
        raise ParameterError("this result carries no spatial units to map")
    levels = list(range(-3, 4))
    cmap = ListedColormap([BIN_COLORS[b] for b in levels])
    norm = BoundaryNorm(np.arange(-3.5, 4.0, 1.0), cmap.N)
    fig, ax = _new_axes()
    _draw_units(ax, res.units, res.bins.astype(float), cmap, norm)
    handles = [Patch(facecolor=BIN_COLORS[b], edgecolor="#777777", lw=0.4,
                     label=f"{BIN_LABELS[b]} ({int((res.bins == b).sum()):,})") for b in range(3, -4, -1)]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 0.07), fontsize=8, title="Gi* bin (units)",
              title_fontsize=8, frameon=True)
    _scalebar(ax, res.units)
    period = period_label(*res.extra.get("period", (None, None)))
    t = title or f"Hot spots (Getis-Ord Gi*): {res.label or 'events'}"
    sub = (f"Period {period}. Rule: Gi* on counts per {unit_phrase(res.units)}, "
           f"{res.weights}; {'FDR-corrected ' if res.fdr else ''}90/95/99% confidence bins. "
           f"{int(res.values.sum()):,} events mapped, {res.n_no_location:,} without coordinates, "
           f"{res.n_outside:,} outside the units.")
    return _finish(fig, ax, t, sub, path, crs=getattr(_UNITS_OF(res), 'crs', None))


def plot_emerging(res: Any, path: Any = None, title: str | None = None, **_: Any) -> Any:
    """Map of the emerging hot spot categories (only categories present are in the legend)."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    from .emerging import CATEGORIES, CATEGORY_LABELS

    cats = list(CATEGORIES)
    codes = np.array([cats.index(c) for c in res.category], dtype=float)
    cmap = ListedColormap([CATEGORY_COLORS[c] for c in cats])
    norm = BoundaryNorm(np.arange(-0.5, len(cats) + 0.5, 1.0), cmap.N)
    fig, ax = _new_axes()
    _draw_units(ax, res.cube.grid, codes, cmap, norm, index=res.cube.locations)
    handles = [Patch(facecolor=CATEGORY_COLORS[c], edgecolor="#777777", lw=0.4,
                     label=f"{CATEGORY_LABELS[c]} ({int((res.category == c).sum()):,})")
               for c in cats if (res.category == c).any()]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 0.07), fontsize=7.5,
              title="Category (cells)", title_fontsize=8)
    _scalebar(ax, res.cube.grid)
    cube = res.cube
    period = f"{cube.steps[0]} to {cube.step_end[-1] - 1}"
    t = title or f"Emerging hot spots: {res.label or 'events'}"
    scope = ("all cells of the city" if cube.n_locations == cube.grid.n_cells
             else "cells with at least one event; pale grey: not analysed")
    sub = (f"Period {period}, {cube.n_steps} {cube.freq}s, {cube.n_locations:,} cells of {cube.grid.cell_size:g} ft "
           f"({scope}). Rule: {res.rule}. {cube.n_events:,} events, "
           f"{cube.n_no_location:,} without coordinates.")
    return _finish(fig, ax, t, sub, path, crs=getattr(_UNITS_OF(res), 'crs', None))


def plot_values(units: Any, values: Any, path: Any = None, title: str = "", legend: str = "",
                subtitle: str = "", cmap: str = "magma_r", index: Any = None, **_: Any) -> Any:
    """Continuous values per unit (counts, densities) with a colour bar."""
    import matplotlib as mpl

    v = np.asarray(values, float)
    vmax = np.nanpercentile(v, 99.5) if np.isfinite(v).any() else 1.0
    norm = mpl.colors.Normalize(vmin=0.0, vmax=vmax if vmax > 0 else 1.0)
    cm = mpl.colormaps[cmap]
    fig, ax = _new_axes()
    _draw_units(ax, units, v, cm, norm, index=index)
    cb = fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cm), ax=ax, shrink=0.5, extend="max")
    cb.set_label(legend)
    _scalebar(ax, units)
    return _finish(fig, ax, title, subtitle, path, crs=getattr(units, 'crs', None))


def plot_lorenz(res: Any, ax: Any = None, path: Any = None) -> Any:
    """Lorenz curve (busiest units first) with perfect- and maximal-equality lines."""
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(5.5, 5.0), dpi=110, layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    ax.plot(res.lorenz_units * 100, res.lorenz_events * 100, color="#b2182b", lw=1.8, label="observed")
    ax.plot([0, 100], [0, 100], color="#999999", ls="--", lw=1, label="perfect equality")
    if res.n_events < res.n_units and res.n_events > 0:
        f = res.n_events / res.n_units * 100
        ax.plot([0, f, 100], [0, 100, 100], color="#2166ac", ls=":", lw=1.2,
                label="maximal equality given the events")
    ax.set_xlabel("% of units (busiest first)")
    ax.set_ylabel("% of events")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_title(f"Lorenz curve {res.label}\nGini {res.gini:.3f}, generalized Gini {res.gini_generalized:.3f}",
                 fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    if path is not None:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(p)
    return fig


def html_map(res: Any, path: Any, title: str | None = None) -> Path:
    """Interactive, self-contained HTML map of a Gi*, emerging or KDE result (plotly, JS inlined).

    The map is drawn in the projected CRS (feet) with the city and community-area
    outlines; no tiles are fetched, so it works offline. Grid cells are drawn as a
    heatmap; the units of a Gi* result on area units or H3 hexagons as filled polygons.
    """
    import plotly.graph_objects as go

    from .emerging import CATEGORIES, CATEGORY_LABELS, EmergingResult
    from .gistar import BIN_LABELS, GiStarResult
    from .grid import Grid
    from .kde import KDEResult

    if isinstance(res, GiStarResult):
        grid, vals, index = res.units, res.bins.astype(float), None
        levels = list(range(-3, 4))
        labels = {float(b): BIN_LABELS[b] for b in levels}
        colors = [BIN_COLORS[b] for b in levels]
        lo = -3
        name = title or f"Gi* hot spots: {res.label}"
        extra = res.z
        extra_name = "z"
    elif isinstance(res, EmergingResult):
        cats = list(CATEGORIES)
        grid, index = res.cube.grid, res.cube.locations
        vals = np.array([cats.index(c) for c in res.category], float)
        labels = {float(i): CATEGORY_LABELS[c] for i, c in enumerate(cats)}
        colors = [CATEGORY_COLORS[c] for c in cats]
        lo = 0
        name = title or f"Emerging hot spots: {res.label} ({res.rule})"
        extra = res.trend_z
        extra_name = "trend z"
    elif isinstance(res, KDEResult):
        grid, vals, index, labels, colors = res.grid, res.density_per_sq_km(), None, None, None
        name = title or f"Kernel density ({res.kernel}, bandwidth {res.bandwidth:,.0f} ft): {res.label}"
        extra, extra_name, lo = None, "", 0
    else:
        raise ParameterError(f"cannot draw an HTML map of {type(res).__name__}")
    if not isinstance(grid, Grid):
        if labels is None or index is not None:
            raise ParameterError("HTML maps of this result are drawn for grid results")
        fig = _html_polygons(grid, vals, extra, extra_name, labels, colors, lo)
        return _html_finish(fig, grid, name, path)
    full = np.full(grid.n_cells, np.nan)
    if index is None:
        full[:] = vals
    else:
        full[np.asarray(index)] = vals
    Z = grid.to_full(full)
    s = grid.cell_size
    xs = grid.x0 + (np.arange(grid.nx) + 0.5) * s
    ys = grid.y0 + (np.arange(grid.ny) + 0.5) * s
    fig = go.Figure()
    if labels is not None:
        n = len(colors)
        scale = []
        for k, c in enumerate(colors):
            scale += [[k / n, c], [(k + 1) / n, c]]
        text = np.where(np.isnan(Z), "", np.vectorize(lambda v: labels.get(v, ""), otypes=[object])(np.nan_to_num(Z, nan=-99)))
        if extra is not None:
            ev = np.full(grid.n_cells, np.nan)
            if index is None:
                ev[:] = extra
            else:
                ev[np.asarray(index)] = extra
            EZ = grid.to_full(ev)
            text = np.where(np.isnan(Z), "", text + np.where(np.isnan(EZ), "", np.char.add(f"<br>{extra_name} ",
                                                                                        np.round(EZ, 2).astype(str))))
        fig.add_trace(go.Heatmap(x=xs, y=ys, z=Z, zmin=lo - 0.5, zmax=lo + n - 0.5, colorscale=scale,
                                 text=text, hovertemplate="%{text}<extra></extra>", showscale=False,
                                 hoverongaps=False))
        present = sorted(set(vals[np.isfinite(vals)].tolist()))
        for v in present:  # legend entries
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", marker=dict(size=12, color=colors[int(v) - lo],
                                     symbol="square"), name=labels[v], showlegend=True))
    else:
        fig.add_trace(go.Heatmap(x=xs, y=ys, z=Z, colorscale="Magma", reversescale=True, hoverongaps=False,
                                 colorbar=dict(title="events/km²"),
                                 hovertemplate="x %{x:.0f}<br>y %{y:.0f}<br>%{z:.2f}/km²<extra></extra>"))
    return _html_finish(fig, grid, name, path)


def _html_polygons(units: Any, vals: np.ndarray, extra: Any, extra_name: str, labels: dict, colors: list,
                   lo: int) -> Any:
    """Plotly figure of classed values on unit polygons (area units, hexagons): one filled trace per class."""
    import plotly.graph_objects as go
    import shapely

    fig = go.Figure()
    ids = getattr(units, "unit_ids", np.arange(len(vals)))
    for v in sorted(set(vals[np.isfinite(vals)].tolist())):
        xs: list = []
        ys: list = []
        text: list = []
        for i in np.flatnonzero(vals == v):
            tip = f"{ids[i]}<br>{labels[v]}" + (f"<br>{extra_name} {extra[i]:.2f}" if extra is not None else "")
            for part in shapely.get_parts(units.geometries[i]):
                if part.geom_type != "Polygon":
                    continue
                c = np.asarray(part.exterior.coords)
                xs += c[:, 0].tolist() + [None]
                ys += c[:, 1].tolist() + [None]
                text += [tip] * len(c) + [None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", fill="toself", fillcolor=colors[int(v) - lo],
                                 line=dict(color="#777777", width=0.3), name=labels[v], text=text,
                                 hoverinfo="text", hoveron="fills+points"))
    return fig


def _html_finish(fig: Any, grid: Any, name: str, path: Any) -> Path:
    import plotly.graph_objects as go

    light, dark = _context_outlines(grid)
    for segs, col, wdt in ((light, "#9a9a9a", 0.6), (dark, "#333333", 1.2)):
        if segs:
            xx = np.concatenate([np.r_[sg[:, 0], np.nan] for sg in segs])
            yy = np.concatenate([np.r_[sg[:, 1], np.nan] for sg in segs])
            fig.add_trace(go.Scattergl(x=xx, y=yy, mode="lines", line=dict(color=col, width=wdt),
                                       hoverinfo="skip", showlegend=False))
    fig.update_layout(title=name, template="plotly_white", width=900, height=1000,
                      xaxis=dict(visible=False), yaxis=dict(visible=False, scaleanchor="x", scaleratio=1),
                      legend=dict(x=0.01, y=0.01, bgcolor="rgba(255,255,255,0.8)"),
                      annotations=[dict(text=f"{SOURCE_NOTE}. EPSG:3435 (feet).", x=1, y=0, xref="paper",
                                        yref="paper", showarrow=False, font=dict(size=10))])
    p = Path(path)
    if p.suffix.lower() not in (".html", ".htm"):
        raise ParameterError(f"interactive map must end in .html, got {p.name!r}")
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(p, include_plotlyjs=True, full_html=True)
    return p
