"""Files of a plan backtest: CSVs with ``#`` provenance lines and an offline HTML report."""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["write_backtest_report", "verdict_lines"]


def _csv(df, path: Path, lines: list[str]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        for line in lines:
            f.write("# " + line.replace("\n", " ") + "\n")
        df.to_csv(f, index=False, lineterminator="\n")
    return path


def verdict_lines(bt: Any) -> list[str]:
    """The sentences the report states: ip vs greedy with the same quotas, the cost of the equity cap,
    and the plan against top-N and all-history hot spots (observed harm, paired over windows)."""
    out = []
    have = set(bt.records["variant"])
    unit = bt.settings.get("harm_unit", "harm")
    for a, b, what in (("ip_quotas", "greedy_quotas", "with the same district quotas"),
                       ("ip", "greedy", "with the same constraints")):
        if a in have and b in have:
            c = bt.compare(a, b)
            verdict = "at least as much" if c["total_diff"] >= -1e-9 else "less"
            out.append(f"{a} vs {b} ({what}): the integer program covered {verdict} next-window harm in total "
                       f"({c['total_diff']:+.6g} {unit} over {c['windows']} windows; ip ahead in {c['a_wins']}, "
                       f"greedy ahead in {c['b_wins']}, equal in {c['windows'] - c['a_wins'] - c['b_wins']})")
    costs = bt.constraint_costs()
    for _, r in costs.iterrows():
        out.append(f"cost of the {r['constraint']}: {r['expected_harm_cost']:.6g} expected and "
                   f"{r['observed_harm_cost']:.6g} observed {unit} per window "
                   f"(observed: paired-bootstrap 95% interval {r['observed_ci_lo']:.4g} to {r['observed_ci_hi']:.4g})")
    for ref in ("top_n", "hotspots"):
        if ref in have and "ip" in have:
            c = bt.compare("ip", ref)
            sig = ("beyond normal variation" if (c["wilcoxon_p"] < 0.05 and (c["ci_lo"] > 0 or c["ci_hi"] < 0))
                   else "within normal week-to-week variation")
            out.append(f"ip vs {ref}: {c['mean_diff']:+.6g} {unit} per window (95% interval {c['ci_lo']:.4g} to "
                       f"{c['ci_hi']:.4g}, Wilcoxon p {c['wilcoxon_p']:.3g}): {sig}")
    return out


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def write_backtest_report(bt: Any, folder: Any, elapsed_seconds: float | None = None) -> list[Path]:
    """summary.csv, records.csv, equity.csv, costs.csv and report.html in ``folder``; returns the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lines = bt.settings_lines()
    summ = bt.summary()
    costs = bt.constraint_costs()
    verdicts = verdict_lines(bt)
    paths = [_csv(summ, folder / "summary.csv", lines + [f"note: {v}" for v in verdicts]),
             _csv(bt.records, folder / "records.csv", lines),
             _csv(bt.equity, folder / "equity.csv", lines + ["note: places = place-weeks (area budgets: sq ft-weeks); "
                                                             "victims = records of the mix in the windows"]),
             _csv(costs, folder / "costs.csv", lines)]
    esc = html.escape
    parts = [f"<h1>{esc(lines[0])}</h1>", "<ul>" + "".join(f"<li>{esc(x)}</li>" for x in lines[1:]) + "</ul>"]
    if elapsed_seconds is not None:
        parts.append(f"<p>Run time {elapsed_seconds:.0f} s.</p>")
    parts.append("<h2>What the backtest says</h2><ul>" + "".join(f"<li>{esc(v)}</li>" for v in verdicts) + "</ul>")
    fmt = lambda v: "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.4g}"  # noqa: E731
    parts.append("<h2>Means per window</h2>" + summ.to_html(index=False, float_format=fmt, border=0))
    parts.append("<h2>Cost of each constraint</h2>" + costs.to_html(index=False, float_format=fmt, border=0))
    fig, ax = plt.subplots(figsize=(8, 4))
    for v, g in bt.records.groupby("variant", sort=False):
        ax.plot(g["origin"], g["observed_harm"], lw=1, label=v)
    ax.set_ylabel(f"harm in planned places ({bt.settings.get('harm_unit')})")
    ax.set_title("Harm that fell in each plan, per window")
    ax.legend(fontsize=7)
    parts.append(_png(fig))
    eq = bt.equity
    if not eq.empty:
        fig, ax = plt.subplots(figsize=(5.5, 5))
        for v in ("ip", "top_n", "hotspots"):
            g = eq[eq["variant"] == v]
            if len(g):
                ax.scatter(g["victim_share"] * 100, g["place_share"] * 100, s=12, label=v)
        hi = float(max(eq["victim_share"].max(), eq["place_share"].max()) * 100 * 1.05)
        ax.plot([0, hi], [0, hi], color="grey", lw=0.8)
        cap = bt.settings.get("equity_cap")
        if cap:
            ax.plot([0, hi / cap], [0, hi], color="grey", lw=0.8, ls="--", label=f"cap x{cap:g}")
        ax.set_xlabel("share of the windows' victims, %")
        ax.set_ylabel("share of planned places, %")
        ax.set_title("Where the places went, by community area")
        ax.legend(fontsize=7)
        parts.append("<h2>Equity by community area</h2><p>Each dot is a community area, summed over all windows. "
                     "Above the diagonal an area gets more of the plan than its share of victims.</p>" + _png(fig))
    parts.append("<h2>Limits</h2><p>Harm that fell in planned places is what a plan <i>could</i> have been near; "
                 "it is not harm prevented. The plans are made on recorded crime, which reflects reporting and "
                 "police activity. Place-based only: no person is scored or listed.</p>"
                 "<p class='src'>Data: City of Chicago Data Portal. Generated by crimescope.</p>")
    css = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
           "table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #ddd;padding:3px 8px;"
           "text-align:right}img{max-width:100%}.src{color:#666;font-size:12px}")
    doc = (f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(lines[0])}</title><style>{css}</style>"
           f"</head><body>{''.join(parts)}</body></html>")
    rp = folder / "report.html"
    rp.write_text(doc, encoding="utf-8")
    return paths + [rp]
