"""The one-page deployment sheet per police district of a plan (HTML rendered to PDF by WeasyPrint).

Each sheet lists the district's chosen places with their block address, expected
harm, high-harm hours and visit schedule, a small map, the constraints and their
cost, the rule, source and vintage, and the responsible-use note.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from ..errors import CrimescopeError, ParameterError

__all__ = ["sheet_html", "write_sheets"]

_MAX_ROWS = 40  # one A4 page


def _map_png(plan: Any, district: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from ..spatial.units import AreaUnits

    fig, ax = plt.subplots(figsize=(3.2, 3.2))
    try:
        units = AreaUnits.load("district")
        i = list(units.unit_ids).index(str(district))
        g = units.geometries[i]
        for part in getattr(g, "geoms", [g]):
            xs, ys = part.exterior.xy
            ax.plot(xs, ys, color="#777", lw=0.7)
    except (ValueError, CrimescopeError):  # no outline for this code: draw the places alone
        pass
    pl = plan.places
    sel = np.flatnonzero(pl.district[plan.chosen] == str(district))
    idx = plan.chosen[sel]
    ax.scatter(pl.x[idx], pl.y[idx], s=10, c="#b30000")
    order = np.argsort(-plan.value[idx], kind="stable")
    for rank, j in enumerate(idx[order][:15], start=1):
        ax.annotate(str(rank), (pl.x[j], pl.y[j]), fontsize=5, xytext=(2, 2), textcoords="offset points")
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def sheet_html(plan: Any, district: str) -> str:
    """The HTML of district ``district``'s sheet."""
    import jinja2

    from ..stats.provenance import jsonable
    from .brief import fmt_num

    rows = plan.district_sheet(district)
    if rows.empty:
        raise ParameterError(f"invalid district={district!r}: the plan has no place there")
    rows = rows.copy()
    rows["rank"] = range(1, len(rows) + 1)
    m = plan.meta
    tot = float(plan.table["expected_harm"].sum()) or 1.0
    dh = float(rows["expected_harm"].sum())
    costs = ", ".join(f"{k} {fmt_num(v, 1)}" for k, v in (m.get("constraint_costs") or {}).items()
                      if k != "unconstrained")
    cons = m.get("constraints", {})
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
                             autoescape=jinja2.select_autoescape(["html"]))
    env.filters["num"] = fmt_num  # thousands separators, integers as integers (as in the brief)
    return env.get_template("plan_sheet.html").render(
        district=district, period=m.get("period"), n=fmt_num(len(rows)), total_places=fmt_num(len(plan.table)),
        budget=m["budget"]["text"], planner=m.get("planner"), status=m.get("status"), gap=f"{m.get('gap', 0):.2%}",
        map=_map_png(plan, district), district_harm=fmt_num(dh, 1), district_share=f"{dh / tot:.0%}",
        unit=m.get("unit"), visit_rule=(f"{m['budget']['hours_per_place']:g} h a week per place as visits of "
                                        f"{m.get('visit_minutes', 15):g} minutes spread over its high-harm hours "
                                        "(Koper curve); vary the order, keep the hours"),
        constraints=(f"quotas {cons.get('quotas')}, equity cap {cons.get('equity_cap')}, "
                     f"spacing {cons.get('spacing_ft')} ft, exclusions {cons.get('exclude') or 'none'}"),
        costs=costs, rows=rows.head(_MAX_ROWS).to_dict(orient="records"), meta=jsonable(m))


def write_sheets(plan: Any, folder: Any, districts: Any = None, fmt: str = "pdf") -> list[Path]:
    """One ``district-<N>.pdf`` (or ``.html``) per district with chosen places; returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    codes = districts or sorted({d for d in plan.table["district"] if d}, key=lambda c: (len(c), c))
    out = []
    for d in codes:
        html = sheet_html(plan, str(d))
        path = folder / f"district-{d}.{fmt}"
        if fmt == "pdf":
            try:
                from weasyprint import HTML
            except (ImportError, OSError) as exc:
                raise CrimescopeError(f"PDF output needs WeasyPrint and its system libraries (pango): {exc}") from exc
            HTML(string=html, base_url=str(folder)).write_pdf(str(path))
        else:
            path.write_text(html, encoding="utf-8")
        out.append(path)
    return out
