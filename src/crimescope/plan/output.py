"""Plan files: GeoJSON of the chosen places (with the plan's ``meta``) and a PNG map."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plan_geojson", "write_plan", "plot_plan", "PLAN_FORMATS"]

PLAN_FORMATS = ("table", "csv", "json", "geojson")


def plan_geojson(plan: Any) -> dict:
    """FeatureCollection (EPSG:4326, converted with pyproj): one feature per chosen place, best first,
    the table's columns as properties, and ``meta`` (rule, source, vintage...) at the top level."""
    import shapely

    from ..spatial.grid import LONLAT_CRS, project_geometry
    from ..stats.provenance import jsonable

    pl = plan.places
    pos = {str(p): i for i, p in enumerate(pl.ids)}
    idx = np.array([pos[p] for p in plan.table["place"]], dtype=np.int64)
    geoms = project_geometry(pl.shapes(idx), pl.crs, LONLAT_CRS) if idx.size else []
    feats = []
    for k, row in enumerate(plan.table.to_dict(orient="records")):
        feats.append({"type": "Feature", "properties": {c: jsonable(v) for c, v in row.items()},
                      "geometry": json.loads(shapely.to_geojson(geoms[k]))})
    return {"type": "FeatureCollection", "meta": jsonable(plan.meta), "features": feats}


#: the plan table's columns that are quantities (thousands separators in the text table; the others
#: are ranks, ids, codes and coordinates)
TABLE_QUANTITIES = ("expected_harm", "cost")


def write_plan(plan: Any, fmt: str, path: Any = None) -> str:
    """The plan rendered as ``table``, ``csv``, ``json`` or ``geojson`` text (written to ``path`` if given)."""
    from ..errors import ParameterError

    if fmt == "geojson":
        text = json.dumps(plan_geojson(plan), default=str)
    elif fmt == "table":  # for people: quantities with thousands separators (CSV and JSON: plain numbers)
        text = plan.result().to_text(thousands=TABLE_QUANTITIES)
    elif fmt in ("csv", "json"):
        text = plan.result().render(fmt)
    else:
        raise ParameterError(f"invalid format={fmt!r}: expected one of {', '.join(PLAN_FORMATS)}")
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def plot_plan(plan: Any, path: Any = None, ax: Any = None, title: str | None = None, data_dir: Any = None):
    """The chosen places over the district outlines, coloured by expected harm; PNG when ``path`` is given."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import shapely

    pl = plan.places
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 7.5))
    else:
        fig = ax.figure
    try:
        from ..spatial.units import AreaUnits

        dist = AreaUnits.load("district", data_dir)
        for g in dist.geometries:
            for part in getattr(g, "geoms", [g]):
                xs, ys = part.exterior.xy
                ax.plot(xs, ys, color="#999", lw=0.5)
    except Exception:  # noqa: BLE001 - outlines are decoration; the places are drawn regardless
        pass
    ch = plan.chosen
    v = plan.value[ch]
    vmax = float(v.max()) if v.size and v.max() > 0 else 1.0
    cmap = plt.get_cmap("magma_r")
    for g, val in zip(pl.shapes(ch), v.tolist()):
        colour = cmap(0.25 + 0.75 * val / vmax)
        if isinstance(g, shapely.Point):
            ax.plot(g.x, g.y, "o", ms=4, color=colour)
        else:
            for part in getattr(g, "geoms", [g]):
                xs, ys = part.exterior.xy
                ax.fill(xs, ys, color=colour, lw=0)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    m = plan.meta
    ax.set_title(title or f"{len(ch)} places, {m.get('period', '')}", fontsize=9)
    ax.text(0.01, 0.01, f"{m.get('unit', '')}\n{m.get('rule', '')[:110]}", transform=ax.transAxes,
            fontsize=5, va="bottom")
    if path is not None:
        fig.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(fig)
    return fig
