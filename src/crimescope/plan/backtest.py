"""Backtest of plans: every week, plan on the past only and count the harm that fell in the plan next week.

At each origin ``o`` (a Monday) the harm surface is forecast from records strictly
before ``o`` and several plans of the same budget are made:

* ``ip``: the integer program with every requested constraint (quotas, equity cap, spacing);
* ``greedy``: the greedy ranking with the same constraints;
* ``ip_quotas`` / ``greedy_quotas``: both planners with the district quotas only (when
  quotas and a cap are both requested: the cap's cost is ``ip_quotas - ip``);
* ``top_n``: the forecast's top places with no constraint (greedy top-N);
* ``hotspots``: the top places by all past harm (all-history hot spots), no constraint.

Each is scored on ``[o, o + horizon)``: the harm (and the records) that fell in its
places, and where its places were, by community area (the equity of each plan:
its share of the places against the share of the week's victims). Nothing at or
after ``o`` is seen by a plan.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import ParameterError
from .core import Budget, parse_budget, plan_places, victim_shares
from .harm import HarmWeights, event_weights, harm_forecast, observed_harm, parse_weights
from .places import Places, build_places

__all__ = ["backtest_plans", "PlanBacktest", "VARIANTS"]

VARIANTS = ("ip", "greedy", "ip_quotas", "greedy_quotas", "top_n", "hotspots")


@dataclass
class PlanBacktest:
    """Scores of plans over rolling weekly origins.

    Attributes
    ----------
    records : pandas.DataFrame
        One row per origin and variant: ``expected_harm`` (the forecast's harm in the
        plan), ``observed_harm`` and ``observed_records`` (what fell in it in the window),
        ``window_harm``, ``window_records`` (citywide), ``places``, ``budget_used``,
        ``gap``, ``status``, ``seconds``.
    equity : pandas.DataFrame
        Per variant and community area, summed over windows: ``places`` (place-weeks),
        ``observed_harm`` in them, ``victims`` (records in the area in the windows);
        with ``place_share``, ``victim_share`` and ``ratio`` (place share / victim share).
    settings : dict
        How the backtest was run (origins, budget, constraints, weights, model).
    """

    records: Any
    equity: Any
    settings: dict = field(default_factory=dict)

    def settings_lines(self) -> list[str]:
        """What the figures count: unit, rule, source, vintage, how the backtest ran (``#`` lines of every file)."""
        from ..stats.provenance import SOURCES

        s = self.settings
        v = s.get("vintage") or {}
        lines = [f"Plan backtest: {s.get('budget')} of {s.get('places')} places, windows of {s.get('horizon_days'):g} days, "
                 f"origins {s.get('origins')}",
                 f"unit: harm in the planned places in the window, {s.get('harm_unit')}",
                 f"rule: {s.get('weights_rule')}; forecast by {s.get('model')} refitted at every origin on earlier "
                 f"records; quotas {s.get('quotas')}, equity cap {s.get('equity_cap')}, spacing {s.get('spacing_ft')} ft",
                 f"source: {SOURCES.get('chicago')}"]
        if s.get("coverage"):
            lines.append(f"note: {s['coverage']}")
        if v:
            lines.append(f"data vintage: max updated_at {v.get('max_updated_at')}, latest batch {v.get('latest_batch_at')}")
        return lines

    def summary(self):
        """Per variant: windows, mean expected and observed harm per window, share of the harm covered."""
        import pandas as pd

        rows = []
        for v, g in self.records.groupby("variant", sort=False):
            tot = float(g["window_harm"].sum())
            rows.append({"variant": v, "windows": len(g), "places": float(g["places"].mean()),
                         "expected_harm": float(g["expected_harm"].mean()),
                         "observed_harm": float(g["observed_harm"].mean()),
                         "observed_records": float(g["observed_records"].mean()),
                         "harm_share": float(g["observed_harm"].sum()) / tot if tot > 0 else math.nan,
                         "records_share": float(g["observed_records"].sum()) / max(float(g["window_records"].sum()), 1e-300),
                         "max_gap": float(g["gap"].max()), "seconds": float(g["seconds"].mean())})
        eq = self.equity_summary()
        out = pd.DataFrame(rows)
        if not eq.empty:
            out = out.merge(eq, on="variant", how="left")
        return out

    def equity_summary(self):
        """Per variant: ``dissimilarity`` (half the sum of |place share - victim share| over community
        areas), ``areas`` with any place, and the largest ``max_ratio`` of place share to victim share."""
        import pandas as pd

        rows = []
        for v, g in self.equity.groupby("variant", sort=False):
            named = g[g["community_area"] > 0]
            ratio = named["ratio"].replace([np.inf], np.nan)
            rows.append({"variant": v, "dissimilarity": float(0.5 * (g["place_share"] - g["victim_share"]).abs().sum()),
                         "areas": int((named["places"] > 0).sum()),
                         "max_ratio": float(ratio.max()) if ratio.notna().any() else math.nan})
        return pd.DataFrame(rows)

    def compare(self, a: str, b: str, metric: str = "observed_harm", n_boot: int = 5000, random_state: int = 0) -> dict:
        """``a`` minus ``b`` over the same windows: total and mean difference, a paired-bootstrap 95%
        interval of the mean, Wilcoxon signed-rank p (two-sided, zeros split), windows won by each."""
        from scipy import stats

        r = self.records
        pa = r[r["variant"] == a].set_index("origin")[metric]
        pb = r[r["variant"] == b].set_index("origin")[metric]
        d = (pa - pb).dropna().to_numpy(float)
        out = {"a": a, "b": b, "metric": metric, "windows": int(d.size), "total_diff": float(d.sum()),
               "mean_diff": float(d.mean()) if d.size else math.nan, "ci_lo": math.nan, "ci_hi": math.nan,
               "wilcoxon_p": math.nan, "a_wins": int((d > 1e-9).sum()), "b_wins": int((d < -1e-9).sum())}
        if d.size >= 2:
            rng = np.random.default_rng(random_state)
            boots = d[rng.integers(0, d.size, size=(n_boot, d.size))].mean(axis=1)
            out["ci_lo"], out["ci_hi"] = (float(x) for x in np.percentile(boots, [2.5, 97.5]))
            out["wilcoxon_p"] = float(stats.wilcoxon(d, zero_method="zsplit").pvalue) if np.any(d != 0) else 1.0
        return out

    def constraint_costs(self):
        """Per constraint: the expected and observed harm per window it costs (means over windows).

        ``district quotas`` = ``top_n - ip_quotas``; ``equity cap`` = ``ip_quotas - ip`` (when both
        were requested; with quotas only ``top_n - ip`` is the quotas' cost; with a cap only the cap's)."""
        import pandas as pd

        r = self.records
        have = set(r["variant"])
        pairs = []
        if "ip_quotas" in have:
            first = "district quotas and spacing" if self.settings.get("spacing_ft") else "district quotas"
            pairs += [(first, "top_n", "ip_quotas"), ("equity cap", "ip_quotas", "ip")]
        else:
            label = self.settings.get("constraints_label", "constraints")
            pairs += [(label, "top_n", "ip")]
        rows = []
        for name, a, b in pairs:
            ca, cb = self.compare(a, b, "expected_harm"), self.compare(a, b, "observed_harm")
            rows.append({"constraint": name, "from": a, "to": b, "expected_harm_cost": ca["mean_diff"],
                         "observed_harm_cost": cb["mean_diff"], "observed_ci_lo": cb["ci_lo"],
                         "observed_ci_hi": cb["ci_hi"], "windows": cb["windows"]})
        return pd.DataFrame(rows)


def backtest_plans(events, grid: Any, origins: Sequence[Any], budget: Any, *, weights: Any = "default",
                   model: Any = "smooth_counts", horizon: Any = 7, places: Any = "grid", quotas: Any = None,
                   equity_cap: float | None = None, spacing: float = 0.0, history_days: float = 365.0,
                   time_limit: float = 60.0, data_dir: Any = None, progress: Callable[[str], None] | None = None,
                   settings: dict | None = None) -> PlanBacktest:
    """Plan every week at ``origins`` and score each variant (see the module docstring)."""
    import pandas as pd

    from ..forecast.base import make_model, parse_horizon, parse_time

    hw = parse_weights(weights)
    orig = [pd.Timestamp(parse_time(o, "origin")) for o in origins]
    if not orig:
        raise ParameterError("invalid origins: expected at least one origin")
    h = parse_horizon(horizon)
    proto = make_model(model) if isinstance(model, str) else model
    t = events["occurred_local"]
    first = orig[0]
    hist = events[(t < first) & (t >= first - pd.Timedelta(days=history_days)) & events["category"].isin(hw.categories)]
    pl = places if isinstance(places, Places) else build_places(places, grid, hist, event_weights(hist, hw), data_dir)
    b = parse_budget(budget, city_area=float(grid.area.sum()))
    mix = events[events["category"].isin(hw.categories)]
    cells = grid.locate(mix["x"].to_numpy(float), mix["y"].to_numpy(float))
    mix_w = event_weights(mix, hw)
    first_record = mix.drop_duplicates("id") if "id" in mix.columns else mix
    ca_code = pd.to_numeric(first_record["community_area"], errors="coerce").fillna(0).astype(int).to_numpy()
    rec_t = first_record["occurred_local"].to_numpy("datetime64[ns]")
    rec_cell = grid.locate(first_record["x"].to_numpy(float), first_record["y"].to_numpy(float))
    mix_t = mix["occurred_local"].to_numpy("datetime64[ns]")
    n_ca = int(max(pl.community_area.max(), ca_code.max() if ca_code.size else 0)) + 1
    eq_places = {v: np.zeros(n_ca) for v in VARIANTS}
    eq_harm = {v: np.zeros(n_ca) for v in VARIANTS}
    victims = np.zeros(n_ca)
    both = quotas is not None and equity_cap is not None
    variants = [v for v in VARIANTS if both or v not in ("ip_quotas", "greedy_quotas")]
    rows = []
    for o in orig:
        t0 = time.perf_counter()
        past = events[events["occurred_local"] < o]
        fc = harm_forecast(past, hw, proto, o.to_datetime64(), grid, h)
        o64, e64 = o.to_datetime64(), (o + pd.Timedelta(days=h)).to_datetime64()
        win = (mix_t >= o64) & (mix_t < e64) & (cells >= 0)
        obs_cell = np.bincount(cells[win], weights=mix_w[win], minlength=grid.n_cells)
        rwin = (rec_t >= o64) & (rec_t < e64)
        rec_cell_counts = np.bincount(rec_cell[rwin & (rec_cell >= 0)], minlength=grid.n_cells).astype(float)
        victims += np.bincount(ca_code[rwin], minlength=n_ca)[:n_ca]
        obs = pl.values(obs_cell)
        obs_rec = pl.values(rec_cell_counts)
        past_mix = (mix_t < o64) & (cells >= 0)
        hist_cell = np.bincount(cells[past_mix], weights=mix_w[past_mix], minlength=grid.n_cells)
        shares = victim_shares(past, o.to_datetime64(), history_days, hw.categories) if equity_cap is not None else None
        fc_secs = time.perf_counter() - t0
        plans = {}
        spec = {
            "ip": ("ip", fc["expected"], quotas, equity_cap, spacing),
            "greedy": ("greedy", fc["expected"], quotas, equity_cap, spacing),
            "ip_quotas": ("ip", fc["expected"], quotas, None, spacing),
            "greedy_quotas": ("greedy", fc["expected"], quotas, None, spacing),
            "top_n": ("greedy", fc["expected"], None, None, 0.0),
            "hotspots": ("greedy", hist_cell, None, None, 0.0),
        }
        exp_place = pl.values(fc["expected"])
        for v in variants:
            planner, surface, q, cap, sp = spec[v]
            t1 = time.perf_counter()
            prob, sol, _ = plan_places(surface, pl, b, quotas=q, equity_cap=cap, shares=shares, spacing=sp,
                                       planner=planner, time_limit=time_limit, constraint_costs=False)
            secs = time.perf_counter() - t1
            ch = sol.chosen
            plans[v] = ch
            rows.append({"origin": o, "variant": v, "planner": planner, "places": int(ch.size),
                         "budget_used": float(prob.cost[ch].sum()), "expected_harm": float(exp_place[ch].sum()),
                         "observed_harm": float(obs[ch].sum()), "observed_records": float(obs_rec[ch].sum()),
                         "window_harm": float(obs_cell.sum()), "window_records": float(rec_cell_counts.sum()),
                         "gap": float(sol.gap) if math.isfinite(sol.gap) else math.nan, "status": sol.status,
                         "seconds": secs})
            np.add.at(eq_places[v], pl.community_area[ch], prob.cost[ch] if b.kind == "area" else 1.0)
            np.add.at(eq_harm[v], pl.community_area[ch], obs[ch])
        if progress:
            progress(f"{o.date()}: forecast {fc_secs:.1f}s, " + ", ".join(
                f"{r['variant']} {r['observed_harm']:.0f}" for r in rows[-len(variants):]))
    eq_rows = []
    vtot = max(float(victims.sum()), 1e-300)
    for v in variants:
        ptot = max(float(eq_places[v].sum()), 1e-300)
        for a in range(n_ca):
            if eq_places[v][a] == 0 and victims[a] == 0:
                continue
            ps, vs = eq_places[v][a] / ptot, victims[a] / vtot
            eq_rows.append({"variant": v, "community_area": a, "places": float(eq_places[v][a]),
                            "observed_harm": float(eq_harm[v][a]), "victims": float(victims[a]),
                            "place_share": ps, "victim_share": vs, "ratio": ps / vs if vs > 0 else math.inf})
    st = {"origins": f"{orig[0].date()} .. {orig[-1].date()} ({len(orig)} windows)", "horizon_days": h,
          "budget": b.describe(), "places": pl.kind, "quotas": str(quotas), "equity_cap": equity_cap,
          "spacing_ft": spacing, "weights": hw.describe(), "weights_rule": hw.rule, "harm_unit": hw.unit,
          "model": proto.name or type(proto).__name__, "history_days": history_days,
          "coverage": events.attrs.get("coverage"),
          "constraints_label": " and ".join(n for n, on in (("district quotas", quotas is not None),
                                                             ("equity cap", equity_cap is not None),
                                                             ("spacing", bool(spacing))) if on) or "constraints",
          **(settings or {})}
    return PlanBacktest(records=pd.DataFrame(rows), equity=pd.DataFrame(eq_rows), settings=st)
