"""An offline HTML report of a backtest: tables, plots (PNG embedded), responsible-use section.

The page needs no network: plots are matplotlib PNGs embedded as base64, styles
are inline. Plotting and writing are functions of a :class:`BacktestResult`;
computing never draws.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from .base import parse_horizon

__all__ = ["write_report", "cell_community_areas", "equity_table", "equity_summary", "equity_frame", "comparisons",
           "calibration_frame", "per_year_frame"]


def cell_community_areas(grid: Any, data_dir: Any = None) -> np.ndarray:
    """Community area number (1-77) of each kept cell's centroid; 0 where none contains it."""
    import shapely

    from ..spatial.grid import LONLAT_CRS, boundaries_dir, project_geometry, read_geojson

    props, geoms = read_geojson(boundaries_dir(data_dir) / "community_areas.geojson")
    geoms = project_geometry(geoms, LONLAT_CRS, grid.crs)
    cx, cy = grid.centroids()
    out = np.zeros(grid.n_cells, dtype=np.int64)
    for p, g in zip(props, geoms):
        num = int(float(p.get("area_numbe") or p.get("area_num_1") or 0))
        inside = shapely.contains_xy(g, cx, cy)
        out[inside & (out == 0)] = num
    return out


def _community_names(data_dir: Any = None) -> dict:
    try:
        from ..spatial.grid import boundaries_dir, read_geojson

        props, _ = read_geojson(boundaries_dir(data_dir) / "community_areas.geojson")
    except Exception:  # noqa: BLE001 - names are decoration only
        return {}
    return {int(float(p.get("area_numbe") or 0)): str(p.get("community", "")).title() for p in props}


def equity_table(result: Any, model: str, horizon: Any = 7, community: np.ndarray | None = None,
                 data_dir: Any = None):
    """Per community area: share of the city's area, of the flagged area, of hits and of events.

    Sums over all backtest windows at the result's ``equity_coverage``. ``events``
    (victimization) are the located events of the windows; ``flag_to_events`` is
    the flagged-area share divided by the events share (above 1: the area gets more
    attention than its share of violence; below 1: less).
    """
    import pandas as pd

    h = parse_horizon(horizon)
    key = next(k for k in result.cell_totals if k[0] == model and math.isclose(k[1], h))
    tot = result.cell_totals[key]
    ca = cell_community_areas(result.grid, data_dir) if community is None else community
    area = result.grid.area
    df = pd.DataFrame({"community_area": ca, "area": area, "flagged": tot["flagged_area"],
                       "hits": tot["hits"], "events": tot["events"]})
    g = df.groupby("community_area").sum()
    out = pd.DataFrame({
        "area_share": g["area"] / g["area"].sum(),
        "flagged_share": g["flagged"] / max(g["flagged"].sum(), 1e-300),
        "hits_share": g["hits"] / max(g["hits"].sum(), 1e-300),
        "events_share": g["events"] / max(g["events"].sum(), 1e-300),
    })
    out["flag_to_events"] = out["flagged_share"] / out["events_share"].where(out["events_share"] > 0)
    return out.sort_values("flagged_share", ascending=False)


def equity_summary(tab: Any) -> dict:
    """A summary of one model's :func:`equity_table`: how closely attention follows victimization.

    ``areas_flagged`` (community areas with any flagged area), ``top5_flagged`` and
    ``top5_events`` (shares of the flagged area and of the events in the five most
    flagged areas), and ``dissimilarity``: half the sum over areas of
    ``|flagged_share - events_share|``, the share of the flagged area that would have to
    move for attention to be spread exactly like victimization (0: the same spread).
    Cells whose centroid is in no community area (area 0) are not counted as an area,
    but their shares stay in the sums.
    """
    named = tab.drop(index=0, errors="ignore")
    top = tab.sort_values("flagged_share", ascending=False).head(5)
    return {"areas_flagged": int((named["flagged_share"] > 0).sum()), "areas": int(len(named)),
            "top5_flagged": float(top["flagged_share"].sum()), "top5_events": float(top["events_share"].sum()),
            "dissimilarity": float(0.5 * (tab["flagged_share"] - tab["events_share"]).abs().sum())}


def equity_frame(result: Any, horizon: Any = 7, community: np.ndarray | None = None, data_dir: Any = None):
    """:func:`equity_table` of every model of ``result``, stacked with a ``model`` column."""
    import pandas as pd

    ca = cell_community_areas(result.grid, data_dir) if community is None else community
    frames = [equity_table(result, m, horizon, ca).reset_index().assign(model=m) for m in result.models]
    return pd.concat(frames, ignore_index=True)[["model", "community_area", "area_share", "flagged_share",
                                                  "hits_share", "events_share", "flag_to_events"]]


def comparisons(result: Any, horizon: Any = 7, coverage: Any = "1%", metric: str = "hit_rate"):
    """Every model against the better simple baseline (paired over windows), as a DataFrame."""
    import pandas as pd

    rank = result.ranking(horizon, coverage, metric)
    base = [m for m in rank if m in ("naive_52w", "naive_all")]
    if not base:
        return pd.DataFrame()
    rows = [result.compare(m, base[0], horizon, coverage, metric) for m in rank if m != base[0]]
    return pd.DataFrame(rows)


def per_year_frame(result: Any, horizon: Any = 7, coverage: str = "1%", metric: str = "hit_rate"):
    """Per model and calendar year of the origins: windows, mean hit rate and PAI at ``coverage``, and the
    paired comparison with the better simple baseline of that year (the project's rule)."""
    import pandas as pd

    from .backtest import BacktestResult

    h = parse_horizon(horizon)
    r = result.records
    years = pd.to_datetime(r["origin"]).dt.year
    rows = []
    for y in sorted(years.unique()):
        sub = BacktestResult(records=r[years == y], models=result.models, horizons=result.horizons,
                             coverages=result.coverages, cell_totals={}, equity_coverage="", grid=None)
        rank = sub.ranking(h, coverage, metric)
        base = [m for m in rank if m in ("naive_52w", "naive_all")]
        s = sub.summary()
        s = s[np.isclose(s["horizon_days"], h) & (s["coverage"] == coverage)].set_index("model")
        for m in rank:
            row = {"year": int(y), "model": m, "windows": int(s.loc[m, "windows"]),
                   "hit_rate": float(s.loc[m, "hit_rate"]), "pai": float(s.loc[m, "pai"])}
            if base and m != base[0]:
                c = sub.compare(m, base[0], h, coverage, metric)
                row.update({"baseline": base[0], "mean_diff": c["mean_diff"], "ci_lo": c["ci_lo"],
                            "ci_hi": c["ci_hi"], "wilcoxon_p": c["wilcoxon_p"],
                            "beats": bool(c["mean_diff"] > 0 and c["wilcoxon_p"] < 0.05 and c["ci_lo"] > 0)})
            rows.append(row)
    return pd.DataFrame(rows)


def calibration_frame(result: Any, horizon: Any = 7):
    """Expected / observed totals per model (rows) and year (columns), at one horizon."""
    h = parse_horizon(horizon)
    cal = result.calibration("year")
    cal = cal[np.isclose(cal["horizon_days"], h)]
    piv = cal.pivot(index="model", columns="year", values="ratio")
    piv.columns = [f"{c}" for c in piv.columns]
    allw = result.calibration("all")
    allw = allw[np.isclose(allw["horizon_days"], h)].set_index("model")
    piv["all windows"] = allw["ratio"]
    piv["window p10-p90"] = [f"{allw.loc[m, 'window_ratio_p10']:.2f}-{allw.loc[m, 'window_ratio_p90']:.2f}"
                             for m in piv.index]
    return piv.reset_index()


def _calibration_section(result: Any, h: float) -> str:
    out = [f"<h2>Calibration ({h:g} days): total expected / total observed events</h2>"
           "<p>1.00 = the forecast's citywide total matched what happened; 0.90 = 10% fewer expected. "
           "Models built from the registry scale their totals to the seasonal citywide level "
           "(<code>crimescope.forecast.base.citywide_level</code>: the last 8 weeks' rate times the same "
           "season's ratio in up to 5 earlier years), so their ratios agree; a model that only ranks "
           "places gets its total from that level, not from its own fit. The last column is the spread of "
           "the per-window ratios (10th-90th percentile).</p>" + _table(calibration_frame(result, h), "{:.3f}")]
    if result.reliability is not None and len(result.reliability):
        rank = result.ranking(h, "1%") if "1%" in result.coverages else list(result.models)
        base = [m for m in rank if m in ("naive_52w", "naive_all")]
        for m in list(dict.fromkeys([rank[0]] + base[:1])):
            tab = result.reliability_table(m, h)
            out.append(f"<h3>{html.escape(m)}: reliability by deciles of expected mass</h3>"
                       "<p>Cells sorted by expected count and cut into ten bins that each carry a tenth of the "
                       "expected events (bin 1: the few hottest cells; cells expected at 0 are in bin 10); "
                       "expected and observed are summed over every window; ratio = observed / expected "
                       "(above 1: under-forecast).</p>" + _table(tab, "{:.2f}"))
    return "".join(out)


def pd_years(result: Any) -> int:
    """Number of calendar years the backtest's origins span."""
    import pandas as pd

    return int(pd.to_datetime(result.records["origin"]).dt.year.nunique())


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _table(df, floatfmt: str = "{:.3f}") -> str:
    return df.to_html(index=False, float_format=lambda v: floatfmt.format(v), border=0, classes="t", na_rep="–")


def _plots(result: Any, horizon: float, main_cov: str) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    s = result.summary()
    s = s[np.isclose(s["horizon_days"], horizon)]
    pct = [c for c in result.coverages if c.endswith("%")]
    if pct:
        fig, ax = plt.subplots(figsize=(7, 4))
        xs = [float(c[:-1]) for c in pct]
        for m in result.models:
            row = s[s["model"] == m].set_index("coverage")
            ax.plot(xs, [row.loc[c, "hit_rate"] for c in pct], marker="o", label=m)
        ax.set_xscale("log")
        ax.set_xticks(xs, [f"{v:g}%" for v in xs])
        ax.minorticks_off()
        ax.set_xlabel("flagged area, % of the city")
        ax.set_ylabel("mean hit rate")
        ax.set_title(f"Hit rate by coverage, {horizon:g}-day horizon")
        ax.legend(fontsize=8)
        out.append(("Hit rate by coverage", _png(fig)))
    r = result.records
    r = r[np.isclose(r["horizon_days"], horizon) & (r["coverage"] == main_cov)]
    fig, ax = plt.subplots(figsize=(8, 4))
    for m in result.models:
        g = r[r["model"] == m]
        ax.plot(g["origin"], g["hit_rate"], lw=1, label=m)
    ax.set_ylabel(f"hit rate at {main_cov}")
    ax.set_title("Hit rate per window")
    ax.legend(fontsize=7, ncol=2)
    out.append(("Per-window hit rate", _png(fig)))
    fig, ax = plt.subplots(figsize=(8, 4))
    data = [r[r["model"] == m]["pai"].dropna().to_numpy() for m in result.models]
    ax.boxplot(data)
    ax.set_xticks(range(1, len(result.models) + 1), result.models, rotation=30, fontsize=8)
    ax.set_ylabel(f"PAI at {main_cov}")
    ax.set_title("PAI across windows")
    out.append(("PAI across windows", _png(fig)))
    return out


def _equity_plot(tab, model: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.scatter(tab["events_share"] * 100, tab["flagged_share"] * 100, s=14)
    hi = max(tab["events_share"].max(), tab["flagged_share"].max()) * 100 * 1.05
    ax.plot([0, hi], [0, hi], color="grey", lw=0.8)
    for ca, row in tab.head(6).iterrows():
        ax.annotate(str(ca), (row["events_share"] * 100, row["flagged_share"] * 100), fontsize=7)
    ax.set_xlabel("share of events (victimization), %")
    ax.set_ylabel("share of flagged area, %")
    ax.set_title(f"{model}: where attention goes vs where violence was")
    return _png(fig)


def write_report(result: Any, path: Any, *, events: Any = None, offsets: Any = None,
                 title: str = "Forecast backtest", horizon: Any = 7, coverage: str = "1%",
                 elapsed_seconds: float | None = None, data_dir: Any = None) -> Path:
    """Write the HTML report of ``result`` to ``path`` and return the path."""
    h = parse_horizon(horizon)
    esc = html.escape
    parts = [f"<h1>{esc(title)}</h1>"]
    st = dict(result.settings)
    st.update({"models": ", ".join(result.models), "horizons (days)": ", ".join(f"{v:g}" for v in result.horizons),
               "coverages": ", ".join(result.coverages),
               "windows": int(result.records["origin"].nunique()),
               "grid": repr(result.grid)})
    if elapsed_seconds is not None:
        st["run time"] = f"{elapsed_seconds:.0f} s"
    parts.append("<table class='t'>" + "".join(f"<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>"
                                              for k, v in st.items()) + "</table>")
    s = result.summary()
    for hh in result.horizons:
        sh = s[np.isclose(s["horizon_days"], hh)]
        piv = sh.pivot(index="model", columns="coverage", values=["hit_rate", "pai", "pei_star"])
        piv = piv.reindex(columns=[(m, c) for m in ("hit_rate", "pai", "pei_star") for c in result.coverages])
        piv.columns = [f"{m} {c}" for m, c in piv.columns]
        ll = sh.groupby("model")["loglik"].first()
        piv["loglik"] = ll
        piv = piv.reset_index()
        piv = piv.sort_values(f"hit_rate {coverage}" if f"hit_rate {coverage}" in piv else piv.columns[1],
                              ascending=False)
        parts.append(f"<h2>Horizon {hh:g} days: means across windows</h2>" + _table(piv))
    ci = s[np.isclose(s["horizon_days"], h) & (s["coverage"] == coverage)][
        ["model", "windows", "hit_rate", "hit_rate_lo", "hit_rate_hi", "pai", "pai_lo", "pai_hi",
         "pei_star", "pei_star_lo", "pei_star_hi", "fit_seconds"]].sort_values("hit_rate", ascending=False)
    parts.append(f"<h2>95% intervals across windows ({h:g} days, {esc(coverage)})</h2>"
                 "<p>t-intervals of the mean over windows (windows are not independent; read as a guide).</p>"
                 + _table(ci))
    cmp = comparisons(result, h, coverage)
    if not cmp.empty:
        bvb = result.best_vs_baseline(h, coverage)
        verdict = ("<b>beats</b>" if bvb["beats_baseline"] else "<b>does not beat</b>")
        parts.append(f"<h2>Paired comparison with the best simple baseline ({h:g} days, {esc(coverage)})</h2>"
                     f"<p>Best model: <b>{esc(bvb['best'])}</b>; best baseline: <b>{esc(bvb['baseline'])}</b>. "
                     f"The best model {verdict} the baseline (required: mean per-window hit-rate difference "
                     "&gt; 0, Wilcoxon signed-rank p &lt; 0.05 and a paired-bootstrap 95% interval of the "
                     "mean difference above 0). Check the grid-offset table too.</p>" + _table(cmp, "{:.4f}"))
    if pd_years(result) > 1:
        parts.append(f"<h2>Per year ({h:g} days, {esc(coverage)})</h2><p>Means over each year's windows and, "
                     "for every model, the paired comparison with that year's better simple baseline "
                     "(beats = the project's rule).</p>" + _table(per_year_frame(result, h, coverage), "{:.4f}"))
    if "expected" in result.records:
        parts.append(_calibration_section(result, h))
    for name, img in _plots(result, h, coverage):
        parts.append(f"<h2>{esc(name)}</h2>{img}")
    if offsets is not None and len(offsets):
        cols = ["offset_x", "offset_y", "model", "hit_rate", "pai", "pei_star"]
        parts.append("<h2>Sensitivity to the grid's offset</h2><p>The same backtest on grids shifted by "
                     "the given offsets (feet).</p>" + _table(offsets[cols]))
    # responsible use
    parts.append("<h2>Responsible use: who gets the attention</h2>"
                 "<p>Place-based forecasts only: no person is scored. Flagged areas concentrate "
                 "attention (patrols, enforcement, services) on neighbourhoods. The tables compare, per "
                 f"community area and summed over all windows at {esc(result.equity_coverage)} coverage, "
                 "the share of the flagged area and of the hits with the share of the events "
                 "(victimization) that happened there. A ratio above 1 means an area receives more "
                 "attention than its share of violence, below 1 less. Over-targeting relative to "
                 "victimization, and missing areas with many victims, are both harms worth "
                 "checking before use.</p>")
    try:
        community = cell_community_areas(result.grid, data_dir)
    except Exception as exc:  # noqa: BLE001 - the report says why the section is missing
        parts.append(f"<p><i>Community areas unavailable: {esc(str(exc))}</i></p>")
        community = None
    if community is not None:
        import pandas as pd

        rank = result.ranking(h, coverage)
        hit = result.summary().query("coverage == @coverage").set_index(["model", "horizon_days"])["hit_rate"]
        rows = []
        for m in rank:
            e = equity_summary(equity_table(result, m, h, community))
            rows.append({"model": m, "hit_rate": float(hit.get((m, h), np.nan)),
                         "areas flagged": f"{e['areas_flagged']} of {e['areas']}",
                         "top-5 areas: flagged share": e["top5_flagged"],
                         "top-5 areas: events share": e["top5_events"], "dissimilarity": e["dissimilarity"]})
        parts.append("<h3>Every model: how closely attention follows victimization</h3>"
                     "<p><i>dissimilarity</i> is the share of the flagged area that would have to move between "
                     "community areas for it to be spread exactly like the events (0 = the same spread); "
                     "the top-5 columns are the five community areas with most flagged area.</p>"
                     + _table(pd.DataFrame(rows)))
        base = [m for m in rank if m in ("naive_52w", "naive_all")]
        for m in list(dict.fromkeys([rank[0]] + base[:1])):
            tab = equity_table(result, m, h, community)
            shown = tab.head(12).reset_index()
            names = _community_names(data_dir)
            if names:
                shown.insert(1, "name", [names.get(int(c), "") for c in shown["community_area"]])
            parts.append(f"<h3>{esc(m)}: the 12 community areas with most flagged area</h3>"
                         + _table(shown) + _equity_plot(tab, m))
            named = tab.drop(index=0, errors="ignore")  # 0: cells whose centroid is in no area
            flagged = named[named["flagged_share"] > 0]
            parts.append(f"<p>{len(flagged)} of {len(named)} community areas ever flagged; the top 5 hold "
                         f"{tab['flagged_share'].head(5).sum() * 100:.0f}% of the flagged area and "
                         f"{tab['events_share'].head(5).sum() * 100:.0f}% of the events.</p>")
    parts.append("<p class='src'>Data: City of Chicago Data Portal (Crimes - 2001 to present). "
                 "Generated by crimescope.</p>")
    css = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
           "table.t{border-collapse:collapse;font-size:13px;margin:0.5em 0}"
           "table.t td,table.t th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}"
           "table.t th{background:#f4f4f4}img{max-width:100%}.src{color:#666;font-size:12px}")
    doc = (f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title>"
           f"<style>{css}</style></head><body>{''.join(parts)}</body></html>")
    p = Path(path)
    p.write_text(doc, encoding="utf-8")
    return p
