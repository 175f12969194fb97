"""Weighted Displacement Difference (Bowers & Johnson 2003) with Wheeler & Ratcliffe's (2018) test.

Three areas: the **target** (the treated areas together), a **buffer** around it
(areas touching the target, by default: queen contiguity of the boundaries) and a
**control** (the remaining areas, by default). Counts are summed over a window of
``window`` periods before the start (``0``) and as many from the start (``1``). The
control is scaled to each area's pre-period level (``k_T = T0/C0``, ``k_B = B0/C0``),
so a control much larger than the target weighs like one of the target's size::

    target effect   dT = (T1 - T0) - k_T (C1 - C0)     var = T1 + T0 + k_T^2 (C1 + C0)
    buffer effect   dB = (B1 - B0) - k_B (C1 - C0)     var = B1 + B0 + k_B^2 (C1 + C0)
    WDD (net)       dT + dB                            var = T1 + T0 + B1 + B0 + (k_T + k_B)^2 (C1 + C0)

Each divided by its standard deviation is approximately standard normal when the
counts are Poisson (Wheeler & Ratcliffe); counts of violent crime are over-dispersed, and
areas drift apart from year to year, which makes that test reject far too often (40% of
no-effect placebos on districts). So by default (``inference="placebo"``) the p-value is a
randomization one: the target's studentized change ``dT / sd`` is ranked among those of
``n_placebos`` placebo targets (as many areas drawn at random, each with its own buffer and
control, the same windows), and the interval of the proportional effect inverts that test
(the target's post count divided by ``1 + r``, wherever a target area falls). The normal
figures stay in the table (``inference="normal"`` makes them the headline), their variances
multiplied by the quasi-Poisson dispersion of the same statistic at pseudo-starts before the
start (``dispersion="windows"``, :func:`window_dispersion`; ``"pearson"`` the pre-period area x
period dispersion; ``"poisson"`` W&R's test as published). The headline effect is the target effect, as a proportion of the target's
counterfactual ``T0 C1 / C0``; the buffer effect says whether crime moved next door
(positive: displacement) or shrank there too (negative: diffusion of benefits), and
the weighted displacement quotient ``WDQ = (B1/C1 - B0/C0) / (T1/C1 - T0/C0)`` is
given when the target changed.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ..errors import CrimescopeError, ParameterError
from .base import EffectResult, Method, check_level

__all__ = ["WeightedDisplacement", "wdd_counts", "window_dispersion", "pre_dispersion"]

#: how the Poisson variances are scaled (``windows``: the default, see :func:`window_dispersion`)
DISPERSIONS = ("windows", "pearson", "poisson")


def pre_dispersion(y: np.ndarray) -> float:
    """Pearson dispersion of an area x period table against the independence model (>= 1).

    Expected counts ``row total x column total / total``; ``chi2 / ((R-1)(C-1))``. Extra-Poisson
    variation of areas from period to period (the usual case for violent crime) makes it above 1.
    """
    y = np.asarray(y, float)
    y = y[y.sum(axis=1) > 0]
    if y.shape[0] < 2 or y.shape[1] < 2 or y.sum() <= 0:
        return 1.0
    e = np.outer(y.sum(axis=1), y.sum(axis=0)) / y.sum()
    ok = e > 0
    chi2 = float((((y - e) ** 2)[ok] / e[ok]).sum())
    return max(1.0, chi2 / ((y.shape[0] - 1) * (y.shape[1] - 1)))


def window_dispersion(y: np.ndarray, s: int, win: int) -> dict:
    """Quasi-Poisson dispersion of the WDD statistic itself, from before the start.

    Every area in turn is a pseudo-target against the sum of all the others as its control, at every
    pseudo-start ``s'`` whose two windows of ``win`` periods lie before the start ``s``
    (``win <= s' <= s - win``; the window is shortened to ``s // 2`` when the pre-period is shorter than
    two windows). Each gives ``d = (Y1 - Y0) - k (C1 - C0)`` with ``k = Y0 / C0`` and its Poisson
    variance ``v = Y1 + Y0 + k^2 (C1 + C0)``; the dispersion is ``phi = max(1, mean(d^2 / v))``, the
    factor by which the Poisson variances understate the real before/after variation of areas (their
    own trends, local shocks). Returns ``{"phi", "n_areas", "n_windows", "window"}``.
    """
    y = np.asarray(y, float)[:, :s]
    w = min(int(win), s // 2)
    if w < 1:
        return {"phi": 1.0, "n_areas": 0, "n_windows": 0, "window": 0}
    total = y.sum(axis=0)
    ratios, areas = [], set()
    for sp in range(w, s - w + 1):
        Y0, Y1 = y[:, sp - w:sp].sum(axis=1), y[:, sp:sp + w].sum(axis=1)
        C0, C1 = total[sp - w:sp].sum() - Y0, total[sp:sp + w].sum() - Y1
        ok = (Y0 > 0) & (C0 > 0)
        k = np.where(ok, Y0 / np.where(C0 > 0, C0, 1), 0.0)
        d = (Y1 - Y0) - k * (C1 - C0)
        v = Y1 + Y0 + k ** 2 * (C1 + C0)
        ok &= v > 0
        ratios.extend((d[ok] ** 2 / v[ok]).tolist())
        areas.update(np.flatnonzero(ok).tolist())
    if not ratios:
        return {"phi": 1.0, "n_areas": 0, "n_windows": 0, "window": w}
    return {"phi": max(1.0, float(np.mean(ratios))), "n_areas": len(areas), "n_windows": s - 2 * w + 1,
            "window": w}


def wdd_counts(T0, T1, B0, B1, C0, C1) -> dict:
    """The W&R statistics from window totals (see the module docstring)."""
    if C0 <= 0 or T0 <= 0:
        raise ParameterError("WDD needs records in the target and the control before the start")
    kT, kB = T0 / C0, B0 / C0
    dC = C1 - C0
    dT = (T1 - T0) - kT * dC
    dB = (B1 - B0) - kB * dC
    vT = T1 + T0 + kT ** 2 * (C1 + C0)
    vB = B1 + B0 + kB ** 2 * (C1 + C0)
    vN = T1 + T0 + B1 + B0 + (kT + kB) ** 2 * (C1 + C0)
    den = T1 / C1 - T0 / C0 if C1 > 0 else np.nan
    wdq = (B1 / C1 - B0 / C0) / den if C1 > 0 and den != 0 and B0 > 0 else np.nan
    return {"target": (dT, vT), "buffer": (dB, vB), "net": (dT + dB, vN), "k_target": kT, "k_buffer": kB,
            "target_counterfactual": T0 * C1 / C0, "wdq": wdq}


class WeightedDisplacement(Method):
    """WDD for target, buffer and control areas; placebo-target randomization test, W&R's test beside it."""

    name = "wdd"
    label = "Weighted displacement difference"
    uses_buffer_units = True
    summary = "Weighted displacement difference (target, buffer, control; placebo-target randomization test)"
    assumptions = (
        "the control area's change (scaled to each area's size) is what target and buffer would have seen",
        "randomization: the target is as if drawn at random among sets of as many areas (a strategy aimed at "
        "the highest-crime areas makes this a strong assumption); seasonality is handled only by the equal "
        "windows",
        "one start for the whole target (staggered starts are collapsed to the earliest)",
    )

    def __init__(self, window: int | None = None, buffer: tuple | None = None, control: tuple | None = None,
                 level: float = 0.95, dispersion: str = "windows", inference: str = "placebo",
                 n_placebos: int = 500, random_state: int = 0):
        self.dispersion = dispersion
        self.inference = inference
        self.n_placebos = n_placebos
        self.random_state = random_state
        self.window = window
        self.buffer = buffer
        self.control = control
        self.level = level

    def _validate(self) -> None:
        check_level(self.level)
        if self.dispersion not in DISPERSIONS:
            raise ParameterError(f"invalid dispersion={self.dispersion!r}: expected one of {', '.join(DISPERSIONS)}")
        if self.inference not in ("placebo", "normal"):
            raise ParameterError(f"invalid inference={self.inference!r}: expected placebo or normal")
        if isinstance(self.n_placebos, bool) or not isinstance(self.n_placebos, int) or self.n_placebos < 19:
            raise ParameterError(f"invalid n_placebos={self.n_placebos!r}: expected an integer >= 19")
        if self.window is not None and (isinstance(self.window, bool) or not isinstance(self.window, int)
                                        or self.window < 1):
            raise ParameterError(f"invalid window={self.window!r}: expected an integer >= 1 or None")

    def _areas(self, panel, g):
        """Index arrays of buffer and control areas (and how the buffer was found)."""
        treated = set(np.flatnonzero(g >= 0).tolist())
        marked = [u for u in panel.meta.get("buffer_units", ()) if u in panel._pos]
        if self.buffer is not None:
            buf = {panel.index_of(a) for a in self.buffer} - treated
            how = "given"
        elif marked:
            buf = {panel.index_of(a) for a in marked} - treated
            how = "the panel's ring around the treated area (" + ", ".join(marked) + ")"
        else:
            buf, how = self._neighbours(panel, treated)
        if self.control is not None:
            ctl = {panel.index_of(a) for a in self.control} - treated - buf
        else:
            ctl = set(range(panel.n_units)) - treated - buf
        if not ctl:
            raise ParameterError("WDD: no control area is left once target and buffer are taken")
        return np.array(sorted(buf), dtype=int), np.array(sorted(ctl), dtype=int), how

    @staticmethod
    def _adjacency(panel):
        """Per panel row, the rows of the areas sharing a boundary point (None without boundaries)."""
        from ..spatial.units import AreaUnits

        try:
            units = AreaUnits.load(panel.unit_kind)
        except (CrimescopeError, OSError) as exc:  # no boundaries (or a synthetic panel): no buffer, said so
            return None, f"none (no {panel.unit_kind} boundaries: {exc})"
        w = units.neighbours()
        pos = {str(u): i for i, u in enumerate(units.unit_ids)}
        adj = []
        for code in panel.unit_ids:
            j = pos.get(str(code))
            nbs = set()
            if j is not None:
                for nb in w[j].indices:
                    c = str(units.unit_ids[nb])
                    if c in panel._pos:
                        nbs.add(panel._pos[c])
            adj.append(nbs)
        return adj, "areas sharing a boundary point with the target (queen contiguity)"

    @classmethod
    def _neighbours(cls, panel, treated):
        adj, how = cls._adjacency(panel)
        if adj is None:
            return set(), how
        out = set()
        for t in treated:
            out |= adj[t]
        return out - set(treated), how

    def _placebo_sets(self, panel, k):
        """``n_placebos`` random sets of ``k`` areas (all sets when there are fewer), with their buffers.

        Returns boolean matrices (sets x areas): the placebo targets and their controls (every area
        neither in the set nor sharing a boundary point with it, when the boundaries are known).
        """
        import itertools
        import math

        adj, _ = self._adjacency(panel)
        n = panel.n_units
        rng = np.random.default_rng(self.random_state)
        if math.comb(n, k) <= self.n_placebos:
            sets = [list(c) for c in itertools.combinations(range(n), k)]
        else:
            sets = [rng.choice(n, k, replace=False).tolist() for _ in range(self.n_placebos)]
        M = np.zeros((len(sets), n), bool)
        marked = [panel._pos[u] for u in panel.meta.get("buffer_units", ()) if u in panel._pos]
        C = np.ones((len(sets), n), bool)
        for j, ps in enumerate(sets):
            M[j, ps] = True
            C[j, ps] = False
            if adj is not None:
                for i in ps:
                    C[j, list(adj[i])] = False
            C[j, marked] = False
        if marked:  # a panel's ring is never a placebo target
            ok = ~M[:, marked].any(axis=1)
            M, C = M[ok], C[ok]
        return M, C

    def _fit(self, panel, g) -> EffectResult:
        import pandas as pd

        y = panel.counts
        starts = sorted(set(g[g >= 0].tolist()))
        s = int(starts[0])
        warns = []
        if len(starts) > 1:
            warns.append("staggered starts collapsed to the earliest; later areas count as treated early")
        avail = min(s, panel.n_periods - s)
        win = int(self.window or min(avail, 52 if panel.step == "week" else 12))
        if win > avail:
            raise ParameterError(f"window={win} {panel.step}s does not fit: {s} before and "
                                 f"{panel.n_periods - s} from the start")
        tgt = np.flatnonzero(g >= 0)
        buf, ctl, how = self._areas(panel, g)

        def tot(rows, a, b):
            return float(y[rows][:, a:b].sum()) if len(rows) else 0.0

        T0, T1 = tot(tgt, s - win, s), tot(tgt, s, s + win)
        B0, B1 = tot(buf, s - win, s), tot(buf, s, s + win)
        C0, C1 = tot(ctl, s - win, s), tot(ctl, s, s + win)
        r = wdd_counts(T0, T1, B0, B1, C0, C1)
        disp = {"phi": 1.0}
        ref = stats.norm
        if self.dispersion == "windows":
            disp = window_dispersion(y, s, win)
            df = max(disp["n_areas"] - 1, 1)
            ref = stats.t(df)
            inf_how = (f"variances x {disp['phi']:.2f}, the quasi-Poisson dispersion of the same statistic at "
                   f"{disp['n_windows']} pseudo-starts before the start ({disp['window']}-{panel.step} windows, "
                   f"each of {disp['n_areas']} areas against all the others); t with {df} df")
        elif self.dispersion == "pearson":
            disp = {"phi": pre_dispersion(y[:, :s])}
            inf_how = (f"variances x {disp['phi']:.2f} (the Pearson dispersion of the pre-period area x period "
                   "counts; too small for window totals, see docs/benchmarks/evaluate.md)")
        else:
            inf_how = "Poisson variances (Wheeler & Ratcliffe's test as published)"
        phi = float(disp["phi"])
        placebo = None
        if self.inference == "placebo":
            placebo = self._placebo_sets(panel, len(tgt))
        for part in ("target", "buffer", "net"):
            r[part] = (r[part][0], r[part][1] * phi)
        z = float(ref.ppf(0.5 + self.level / 2))
        rows = []
        for part in ("target", "buffer", "net"):
            d, v = r[part]
            sd = float(np.sqrt(v))
            p = float(2 * ref.sf(abs(d) / sd)) if sd > 0 else np.nan
            rows.append({"part": part, "change": d, "sd": sd, "z": d / sd if sd > 0 else np.nan, "p_value": p,
                         "ci_low": d - z * sd, "ci_high": d + z * sd})
        table = pd.DataFrame(rows)
        counts = pd.DataFrame([{"area": "target", "before": T0, "after": T1, "n_areas": len(tgt),
                                "areas": ", ".join(panel.unit_ids[tgt])},
                               {"area": "buffer", "before": B0, "after": B1, "n_areas": len(buf),
                                "areas": ", ".join(panel.unit_ids[buf])},
                               {"area": "control", "before": C0, "after": C1, "n_areas": len(ctl),
                                "areas": ", ".join(panel.unit_ids[ctl])}])
        tr = table.iloc[0]
        cf = r["target_counterfactual"]
        est, lo, hi, p = float(tr["change"]), float(tr["ci_low"]), float(tr["ci_high"]), float(tr["p_value"])
        rel, rlo, rhi = est / cf, lo / cf, hi / cf
        extra = {}
        if placebo is not None:
            treated = np.zeros(panel.n_units, bool)
            treated[tgt] = True
            p, rlo, rhi, n_pl = _placebo_test(y[:, s - win:s].sum(axis=1), y[:, s:s + win].sum(axis=1), treated,
                                              (T0, T1, C0, C1), *placebo, self.level)
            lo, hi = rlo * cf, rhi * cf
            if n_pl < 19:
                warns.append(f"only {n_pl} placebo target sets could be built: the placebo test cannot reject "
                             "at 5%; the normal figures are in the table")
            extra = {"placebo_sets": n_pl, "normal_p_value": float(tr["p_value"]),
                     "normal_ci": [float(tr["ci_low"]), float(tr["ci_high"])]}
            inf_how = (f"randomization: the target's studentized change ranked among those of {n_pl} placebo "
                       f"targets ({len(tgt)} areas drawn at random among all, each with its own buffer and "
                       f"control, the same windows, seed {self.random_state}); interval by inverting that test "
                       f"for a proportional effect on the target; normal figures in the table ({inf_how})")
        if len(buf) and table.iloc[1]["p_value"] < 0.05:
            sign = "more" if table.iloc[1]["change"] > 0 else "fewer"
            warns.append(f"the buffer had significantly {sign} records than the control predicts "
                         f"({table.iloc[1]['change']:+.0f}, p = {table.iloc[1]['p_value']:.3g}): "
                         + ("crime may have moved next door" if sign == "more" else
                            "a diffusion of benefits, or the buffer shared the intervention"))
        if not len(buf):
            warns.append(f"no buffer area ({how}): displacement is not examined")
        return EffectResult(
            method=self.name, estimate=est, ci_low=lo, ci_high=hi, p_value=p, relative=rel, relative_low=rlo,
            relative_high=rhi,
            scale=f"records in the target over the {win} {panel.step}s from the start, against the scaled control",
            level=self.level, table=table, tables={"counts": counts}, warnings=warns,
            meta={"window": f"{win} {panel.step}s before vs {win} from {panel.periods[s]}",
                  "buffer_rule": how, "wdq": r["wdq"], "k_target": r["k_target"], "k_buffer": r["k_buffer"],
                  "dispersion": phi, "dispersion_rule": self.dispersion, **extra,
                  "inference": f"Wheeler & Ratcliffe's test of the target change, {inf_how}"})


def _zs(P0, P1, C0, C1):
    """W&R statistic (target change over its Poisson sd), elementwise; 0 where undefined."""
    with np.errstate(divide="ignore", invalid="ignore"):
        k = P0 / C0
        d = (P1 - P0) - k * (C1 - C0)
        v = P1 + P0 + k ** 2 * (C1 + C0)
        z = d / np.sqrt(v)
    return np.where(np.isfinite(z), z, 0.0)


def _placebo_test(pre, post, treated, observed, M, C, level: float):
    """Randomization p-value of no effect and the interval of the proportional effect ``r``.

    ``pre``/``post``: per area, window totals; ``treated``: the target's areas; ``observed``: the
    target's and its control's totals ``(T0, T1, C0, C1)``; ``M``/``C``: placebo targets and their
    controls (sets x areas). Under ``r`` the target areas' post totals without the intervention are
    ``post / (1 + r)``, for the observed target and wherever a target area falls in a placebo set or
    control; ``r`` is kept when the observed ``|z|`` is not beyond ``1 - level`` of the placebos' (rank
    p-value, sets whose control or target has no record before skipped). Grid: 801 rate ratios from
    0.05 to 20; an interval reaching the top is unbounded (inf), the bottom -1. Returns
    ``(p, r_low, r_high, n_sets)``.
    """
    T0, T1, C0, C1 = observed
    P0 = M @ pre
    Q0 = C @ pre
    ok = (P0 > 0) & (Q0 > 0)
    M, C, P0, Q0 = M[ok], C[ok], P0[ok], Q0[ok]
    n = int(ok.sum())
    if n == 0:
        return 1.0, -1.0, np.inf, 0
    un, tr = post * ~treated, post * treated
    P1u, P1t, Q1u, Q1t = M @ un, M @ tr, C @ un, C @ tr
    f = np.concatenate([[1.0], np.exp(np.linspace(np.log(0.05), np.log(20), 801))])
    zp = np.abs(_zs(P0[None, :], P1u[None, :] + P1t[None, :] / f[:, None], Q0[None, :],
                    Q1u[None, :] + Q1t[None, :] / f[:, None]))
    zo = np.abs(_zs(T0, T1 / f, C0, C1))
    pv = (1 + (zp >= zo[:, None] - 1e-12).sum(axis=1)) / (1 + n)
    grid, pg = f[1:], pv[1:]
    keep = np.flatnonzero(pg > 1 - level)
    if keep.size == 0:
        return float(pv[0]), np.nan, np.nan, n
    lo = -1.0 if keep[0] == 0 else float(grid[keep[0]] - 1)
    hi = np.inf if keep[-1] == grid.size - 1 else float(grid[keep[-1]] - 1)
    return float(pv[0]), lo, hi, n
