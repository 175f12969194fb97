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
counts are Poisson (Wheeler & Ratcliffe); counts of violent crime are usually
overdispersed, which makes that test reject too often, so by default
(``dispersion="estimated"``) the variances are multiplied by the Pearson dispersion
of the pre-period area x period counts (``dispersion="poisson"`` is W&R's test). The headline effect is the target effect, as a proportion of the target's
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

__all__ = ["WeightedDisplacement", "wdd_counts"]


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
    """WDD for target, buffer and control areas, with Wheeler & Ratcliffe's Poisson test."""

    name = "wdd"
    summary = "Weighted displacement difference (target, buffer, control; Wheeler-Ratcliffe test)"
    assumptions = (
        "the control area's change (scaled to each area's size) is what target and buffer would have seen",
        "counts are Poisson up to one dispersion factor estimated from the pre-period; seasonality is handled "
        "only by the equal windows",
        "one start for the whole target (staggered starts are collapsed to the earliest)",
    )

    def __init__(self, window: int | None = None, buffer: tuple | None = None, control: tuple | None = None,
                 level: float = 0.95, dispersion: str = "estimated"):
        self.dispersion = dispersion
        self.window = window
        self.buffer = buffer
        self.control = control
        self.level = level

    def _validate(self) -> None:
        check_level(self.level)
        if self.dispersion not in ("estimated", "poisson"):
            raise ParameterError(f"invalid dispersion={self.dispersion!r}: expected estimated or poisson")
        if self.window is not None and (isinstance(self.window, bool) or not isinstance(self.window, int)
                                        or self.window < 1):
            raise ParameterError(f"invalid window={self.window!r}: expected an integer >= 1 or None")

    def _areas(self, panel, g):
        """Index arrays of buffer and control areas (and how the buffer was found)."""
        treated = set(np.flatnonzero(g >= 0).tolist())
        if self.buffer is not None:
            buf = {panel.index_of(a) for a in self.buffer} - treated
            how = "given"
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
    def _neighbours(panel, treated):
        from ..spatial.units import AreaUnits

        try:
            units = AreaUnits.load(panel.unit_kind)
        except (CrimescopeError, OSError) as exc:  # no boundaries (or a synthetic panel): no buffer, said so
            return set(), f"none (no {panel.unit_kind} boundaries: {exc})"
        w = units.neighbours()
        pos = {str(u): i for i, u in enumerate(units.unit_ids)}
        out = set()
        for t in treated:
            j = pos.get(str(panel.unit_ids[t]))
            if j is None:
                continue
            for nb in w[j].indices:
                code = str(units.unit_ids[nb])
                if code in panel._pos:
                    out.add(panel._pos[code])
        return out - treated, "areas sharing a boundary point with the target (queen contiguity)"

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
        phi = pre_dispersion(y[:, :s]) if self.dispersion == "estimated" else 1.0
        for part in ("target", "buffer", "net"):
            r[part] = (r[part][0], r[part][1] * phi)
        z = stats.norm.ppf(0.5 + self.level / 2)
        rows = []
        for part in ("target", "buffer", "net"):
            d, v = r[part]
            sd = float(np.sqrt(v))
            p = float(2 * stats.norm.sf(abs(d) / sd)) if sd > 0 else np.nan
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
        if len(buf) and table.iloc[1]["p_value"] < 0.05:
            sign = "more" if table.iloc[1]["change"] > 0 else "fewer"
            warns.append(f"the buffer had significantly {sign} records than the control predicts "
                         f"({table.iloc[1]['change']:+.0f}, p = {table.iloc[1]['p_value']:.3g}): "
                         + ("crime may have moved next door" if sign == "more" else
                            "a diffusion of benefits, or the buffer shared the intervention"))
        if not len(buf):
            warns.append(f"no buffer area ({how}): displacement is not examined")
        return EffectResult(
            method=self.name, estimate=float(tr["change"]), ci_low=float(tr["ci_low"]), ci_high=float(tr["ci_high"]),
            p_value=float(tr["p_value"]), relative=float(tr["change"] / cf), relative_low=float(tr["ci_low"] / cf),
            relative_high=float(tr["ci_high"] / cf),
            scale=f"records in the target over the {win} {panel.step}s from the start, against the scaled control",
            level=self.level, table=table, tables={"counts": counts}, warnings=warns,
            meta={"window": f"{win} {panel.step}s before vs {win} from {panel.periods[s]}",
                  "buffer_rule": how, "wdq": r["wdq"], "k_target": r["k_target"], "k_buffer": r["k_buffer"],
                  "dispersion": phi,
                  "inference": ("Wheeler & Ratcliffe normal approximation, Poisson variances" if phi == 1.0 else
                                f"Wheeler & Ratcliffe normal approximation, variances x {phi:.2f} (the Pearson "
                                "dispersion of the pre-period area x period counts)")})
