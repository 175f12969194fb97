"""When to be there: the high-harm hours of the week per place and a Koper-style visit schedule.

Hour profile of a place (168 hours, Monday 00:00 = hour 0, local wall time)::

    s_h = 0.5 * own_h + 0.3 * nbr_h + 0.2 * city_h

each term the share of past harm in hour ``h`` (of the week) among the place's own
records, among the records within ``radius`` feet of its point (its neighbourhood,
own records excluded), and among every record of the history; a term with no
records gives its weight to the others. Each term is smoothed over the adjacent
hours (weights 1/4, 1/2, 1/4, round the week) before mixing. ``expected_h =
expected harm of the place x s_h`` is the harm the plan expects in that hour.

The visit schedule follows the Koper curve (Koper 1995: about 15 minutes at a hot
spot, visits spread unpredictably): ``hours_per_place`` of presence a week becomes
``floor(60 * hours_per_place / visit_minutes)`` visits of ``visit_minutes`` (10-16)
minutes, in distinct hours drawn without replacement from the place's top hours with
probability proportional to ``s_h``, at a start minute drawn uniformly; seeded, so the
same request gives the same schedule.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ParameterError

__all__ = ["hour_of_week", "hour_profiles", "high_hours", "format_hours", "koper_schedule", "DAYS"]

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MIX = np.array([0.5, 0.3, 0.2])


def hour_of_week(t: Any) -> np.ndarray:
    """0..167 (Monday 00:00-00:59 = 0) of wall-clock datetimes."""
    import pandas as pd

    ts = pd.DatetimeIndex(pd.to_datetime(np.asarray(t)))
    return (ts.day_of_week.to_numpy() * 24 + ts.hour.to_numpy()).astype(np.int64)


def _smooth(v: np.ndarray) -> np.ndarray:
    return 0.5 * v + 0.25 * np.roll(v, 1, axis=-1) + 0.25 * np.roll(v, -1, axis=-1)


def _shares(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tot = m.sum(axis=-1, keepdims=True)
    return np.divide(m, tot, out=np.zeros_like(m), where=tot > 0), (tot[..., 0] > 0)


def hour_profiles(place_x: np.ndarray, place_y: np.ndarray, place_of_event: np.ndarray, chosen: np.ndarray,
                  ev_x: np.ndarray, ev_y: np.ndarray, ev_how: np.ndarray, ev_w: np.ndarray,
                  radius: float = 1500.0) -> np.ndarray:
    """The 168-hour profile ``s`` (rows sum to 1) of each place in ``chosen`` (see module docstring)."""
    from scipy.spatial import cKDTree

    chosen = np.asarray(chosen, dtype=np.int64)
    k = chosen.size
    ok = np.isfinite(ev_x) & np.isfinite(ev_y) & (ev_w > 0)
    city = np.bincount(ev_how[ok], weights=ev_w[ok], minlength=168)
    city_s, city_ok = _shares(_smooth(city)[None, :])
    out = np.zeros((k, 168))
    if k == 0:
        return out
    own = np.zeros((k, 168))
    pos = {int(p): j for j, p in enumerate(chosen)}
    sel = np.flatnonzero(ok & np.isin(place_of_event, chosen))
    for i in sel.tolist():
        own[pos[int(place_of_event[i])], ev_how[i]] += ev_w[i]
    nbr = np.zeros((k, 168))
    if ok.any():
        tree = cKDTree(np.column_stack([ev_x[ok], ev_y[ok]]))
        idx_ok = np.flatnonzero(ok)
        hits = tree.query_ball_point(np.column_stack([place_x[chosen], place_y[chosen]]), r=radius)
        for j, h in enumerate(hits):
            if not h:
                continue
            e = idx_ok[np.asarray(h, dtype=np.int64)]
            e = e[place_of_event[e] != chosen[j]]
            np.add.at(nbr[j], ev_how[e], ev_w[e])
    own_s, own_ok = _shares(_smooth(own))
    nbr_s, nbr_ok = _shares(_smooth(nbr))
    have = np.column_stack([own_ok, nbr_ok, np.repeat(city_ok, k)]).astype(float)
    mix = have * _MIX
    tot = mix.sum(axis=1, keepdims=True)
    mix = np.divide(mix, tot, out=np.zeros_like(mix), where=tot > 0)
    out = mix[:, [0]] * own_s + mix[:, [1]] * nbr_s + mix[:, [2]] * city_s
    flat = out.sum(axis=1) <= 0
    out[flat] = 1.0 / 168  # no history at all: every hour alike (said by the empty 'hours' basis)
    return out


def high_hours(profile: np.ndarray, n: int = 6) -> np.ndarray:
    """The ``n`` hours of the week with the largest share, in time order (ties: earlier first)."""
    order = np.lexsort((np.arange(168), -profile))
    return np.sort(order[:n])


def format_hours(hours: np.ndarray) -> str:
    """Hours of the week as windows: ``Fri 20:00-23:00, Sat 00:00-02:00`` (end exclusive)."""
    hs = sorted(int(h) for h in hours)
    if not hs:
        return ""
    runs, start, prev = [], hs[0], hs[0]
    for h in hs[1:]:
        if h == prev + 1 and h % 24 != 0:
            prev = h
            continue
        runs.append((start, prev))
        start = prev = h
    runs.append((start, prev))
    parts = []
    for a, b in runs:
        end = (b % 24) + 1
        parts.append(f"{DAYS[a // 24]} {a % 24:02d}:00-{end:02d}:00")
    return ", ".join(parts)


def koper_schedule(profile: np.ndarray, hours_per_place: float, visit_minutes: float = 15,
                   rng: np.random.Generator | None = None) -> list[tuple[int, int, int]]:
    """Visits ``(hour_of_week, start_minute, minutes)`` in time order (see module docstring)."""
    if not 10 <= float(visit_minutes) <= 16:
        raise ParameterError(f"invalid visit_minutes={visit_minutes!r}: expected 10 to 16 minutes (Koper curve)")
    if not hours_per_place > 0:
        raise ParameterError(f"invalid hours_per_place={hours_per_place!r}: expected a positive number of hours")
    rng = rng if rng is not None else np.random.default_rng(0)
    n = int(np.floor(60.0 * hours_per_place / visit_minutes + 1e-9))
    if n == 0:
        return []
    if n > 168:
        raise ParameterError(f"invalid hours_per_place={hours_per_place!r}: more visits than hours in a week")
    pool = np.lexsort((np.arange(168), -profile))[:max(24, 2 * n)]
    p = profile[pool] + 1e-12
    hours = rng.choice(pool, size=n, replace=False, p=p / p.sum())
    mins = int(round(visit_minutes))
    starts = rng.integers(0, 60 - mins + 1, size=n)
    return sorted((int(h), int(s), mins) for h, s in zip(hours, starts))


def format_visits(visits: list[tuple[int, int, int]]) -> str:
    return ", ".join(f"{DAYS[h // 24]} {h % 24:02d}:{m:02d} ({d} min)" for h, m, d in visits)
