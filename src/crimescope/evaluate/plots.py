"""Figures of an evaluation: event study, synthetic-control gaps, ITS series, methods side by side.

Each ``*_figure`` draws a matplotlib figure (PNG or SVG by the file's suffix) whose
footer states the rule, source, vintage, method and assumptions; each ``*_plotly``
returns the same chart as a Plotly figure dict (data + layout) for the dashboard,
which loads Plotly from the local server.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ParameterError

__all__ = ["event_study_figure", "gap_figure", "its_figure", "methods_figure", "save_figures",
           "event_study_plotly", "gap_plotly", "methods_plotly", "footer_lines"]


def footer_lines(result) -> list[str]:
    m = result.meta
    v = m.get("vintage") or {}
    lines = [f"{m.get('unit', '')}; rule: {m.get('rule', '')}",
             f"source: {m.get('source', '')}; data vintage: max updated_at {v.get('max_updated_at')}",
             f"method: {result.method} ({m.get('inference', '')})",
             "assumes: " + "; ".join(result.assumptions)]
    return lines


def _fig(result, title: str):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    import textwrap

    text = "\n".join(textwrap.fill(ln, 160) for ln in footer_lines(result))
    n = text.count("\n") + 1
    fig, ax = plt.subplots(figsize=(10, 6.2))
    fig.subplots_adjust(bottom=min(0.55, 0.1 + 0.022 * n), top=0.88)
    ax.set_title(textwrap.fill(title, 110), fontsize=9)
    fig.text(0.01, 0.01, text, fontsize=6, va="bottom", ha="left", family="monospace")
    return fig, ax


def _save(fig, path) -> Path:
    import matplotlib.pyplot as plt

    p = Path(path)
    if p.suffix.lower() not in (".png", ".svg"):
        raise ParameterError(f"figure {p}: expected a .png or .svg file name")
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, dpi=130)
    plt.close(fig)
    return p


def event_study_figure(result, path):
    """Event-study effects (``tables['event_study']`` of cs) with pointwise intervals."""
    es = result.tables.get("event_study")
    if es is None or len(es) == 0:
        raise ParameterError(f"{result.method} has no event study to draw")
    fig, ax = _fig(result, f"Event study: {result.meta.get('title', '')}")
    e = es["event_time"].to_numpy()
    ax.fill_between(e, es["ci_low"], es["ci_high"], color="#9ecae1", alpha=0.6, label="95% pointwise interval")
    ax.plot(e, es["att"], color="#08519c", lw=1.2, label="ATT by periods since the start")
    ax.axhline(0, color="k", lw=0.8)
    ax.axvline(-0.5, color="#cb181d", ls="--", lw=1, label="start")
    ax.set_xlabel("periods since the start (negative: before)")
    ax.set_ylabel(result.scale.split(" (")[0])
    ax.legend(fontsize=8)
    return _save(fig, path)


def gap_figure(result, path):
    """Treated minus synthetic per period and area (``tables['gaps']`` of synth)."""
    gaps = result.tables.get("gaps")
    if gaps is None or len(gaps) == 0:
        raise ParameterError(f"{result.method} has no gaps to draw")
    fig, ax = _fig(result, f"Synthetic control gaps: {result.meta.get('title', '')}")
    import pandas as pd

    for area, g in gaps.groupby("area", sort=False):
        x = pd.to_datetime(g["period"])
        ax.plot(x, g["gap"], lw=1, label=f"area {area}")
        post = g[g["post"]]
        if len(post):
            ax.axvline(pd.to_datetime(post["period"].iloc[0]), color="#999", ls=":", lw=0.8)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_ylabel("observed minus synthetic (records per period)")
    ax.legend(fontsize=7, ncol=3)
    return _save(fig, path)


def its_figure(result, path):
    s = result.tables.get("series")
    if s is None or len(s) == 0:
        raise ParameterError(f"{result.method} has no series to draw")
    import pandas as pd

    fig, ax = _fig(result, f"Interrupted time series: {result.meta.get('title', '')}")
    x = pd.to_datetime(s["period"])
    ax.plot(x, s["observed"], color="#444", lw=0.8, label="observed (treated areas together)")
    ax.plot(x, s["fitted"], color="#08519c", lw=1.2, label="model")
    ax.plot(x, s["counterfactual"], color="#cb181d", lw=1.2, ls="--", label="model without the intervention")
    ax.set_ylabel("records per period")
    ax.legend(fontsize=8)
    return _save(fig, path)


def methods_figure(evaluation, path):
    """Every method's proportional effect with its interval, side by side."""
    rs = list(evaluation.results.values())
    if not rs:
        raise ParameterError("no method result to draw")
    fig, ax = _fig(rs[0], f"Did it work? {evaluation.panel.meta.get('title', '')}")
    y = np.arange(len(rs))[::-1]
    for yi, r in zip(y, rs):
        lo = r.relative_low if np.isfinite(r.relative_low) else -1.0
        hi = r.relative_high if np.isfinite(r.relative_high) else 3.0
        ax.plot([100 * lo, 100 * hi], [yi, yi], color="#08519c", lw=2)
        ax.plot([100 * r.relative], [yi], "o", color="#08519c")
        if r.warnings:
            ax.text(100 * hi, yi + 0.15, f" {len(r.warnings)} warning(s)", fontsize=7, color="#cb181d")
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(y, [r.method for r in rs])
    ax.set_xlabel("% change against the estimated counterfactual (95% interval)")
    # the footer of a multi-method chart: the panel's provenance and each method's name
    return _save(fig, path)


def save_figures(evaluation, folder, fmt: str = "png") -> list[Path]:
    """All figures of an evaluation into ``folder`` (``methods``, ``event_study``, ``gaps``, ``its``)."""
    folder = Path(folder)
    out = [methods_figure(evaluation, folder / f"methods.{fmt}")]
    r = evaluation.results
    if "cs" in r:
        out.append(event_study_figure(r["cs"], folder / f"event_study.{fmt}"))
    if "synth" in r:
        out.append(gap_figure(r["synth"], folder / f"gaps.{fmt}"))
    if "its" in r:
        out.append(its_figure(r["its"], folder / f"its.{fmt}"))
    return out


# ------------------------------------------------------------------- plotly
def _num(a):
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(a, float)]


def event_study_plotly(result) -> dict:
    es = result.tables["event_study"]
    e = [int(v) for v in es["event_time"]]
    return {"data": [
        {"x": e + e[::-1], "y": _num(es["ci_high"]) + _num(es["ci_low"])[::-1], "fill": "toself",
         "line": {"width": 0}, "fillcolor": "rgba(158,202,225,0.6)", "name": "95% interval", "type": "scatter"},
        {"x": e, "y": _num(es["att"]), "name": "ATT", "type": "scatter", "line": {"color": "#08519c"}}],
        "layout": {"title": {"text": "Event study (Callaway-Sant'Anna)"}, "xaxis": {"title": {"text": "periods since the start"}},
                   "yaxis": {"title": {"text": result.scale.split(" (")[0]}},
                   "shapes": [{"type": "line", "x0": -0.5, "x1": -0.5, "yref": "paper", "y0": 0, "y1": 1,
                               "line": {"dash": "dash", "color": "#cb181d"}}]}}


def gap_plotly(result) -> dict:
    gaps = result.tables["gaps"]
    data = [{"x": list(g["period"]), "y": _num(g["gap"]), "name": f"area {a}", "type": "scatter"}
            for a, g in gaps.groupby("area", sort=False)]
    return {"data": data, "layout": {"title": {"text": "Synthetic control: observed minus synthetic"},
                                     "yaxis": {"title": {"text": "records per period"}}}}


def methods_plotly(evaluation) -> dict:
    """Each method's effect by its plain name (``base.labels``); the code is in ``customdata``."""
    from .base import labels

    rs = list(evaluation.results.values())
    names = labels()
    return {"data": [{
        "x": [100 * r.relative if np.isfinite(r.relative) else None for r in rs],
        "y": [names.get(r.method, r.method) for r in rs], "customdata": [r.method for r in rs],
        "type": "scatter", "mode": "markers",
        "error_x": {"type": "data", "symmetric": False,
                    "array": [100 * (r.relative_high - r.relative) if np.isfinite(r.relative_high) else None
                              for r in rs],
                    "arrayminus": [100 * (r.relative - r.relative_low) if np.isfinite(r.relative_low) else None
                                   for r in rs]}}],
        "layout": {"title": {"text": "% change against the counterfactual, by method (95% interval)"},
                   "xaxis": {"title": {"text": "%"}, "zeroline": True}}}
