"""Leading indicators: a learned model on smoothed, decayed surfaces of the target and related crimes.

After Cohen, Gorr & Olligschlaeger (2007), "Leading indicators and spatial
interactions": where lesser crimes concentrate (weapons violations, gun assaults,
narcotics, other violent crime) tells where the rarer serious ones will happen,
and it is measured on far more events than the target itself. For each kept
cell and each of ``n_origins`` past weekly origins ``o`` the features are
*shares* of the city's events in the cell (per 10,000), computed from events
before ``o`` only:

* the target, for each ``(half_life_days, bandwidth)`` of ``target_features``:
  events weighted ``2 ** (-age / half_life)`` (None: all history, unweighted),
  counted in the cell (bandwidth 0) or spread over the cells whose centroid lies
  within ``bandwidth`` with the quartic kernel ``(1 - (d/h)^2)^2`` (mass preserved);
* each related category the same way with ``related_features``;
* the kept fraction of the cell's area.

The target is the count of target events in ``[o, o + target_days)``; a
LightGBM Poisson booster learns the map and is applied at ``o = as_of``. Cells
with no target event ever within the widest all-history smooth ("inactive") get
one pooled rate. Most training rows have no event; a seeded ``zero_sample``
share of them is kept with weight ``1 / zero_sample`` (an unbiased Poisson loss
at a tenth of the cost).

Related events come in the same DataFrame, tagged by a ``category`` column:
rows whose category is ``target_category`` (or, when that is None, not one of
``related``) are the target; :func:`crimescope.stats.events.load_categories`
builds such a frame and the backtest passes it to models whose
:meth:`related_categories` is not empty.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .base import EventArrays, Forecaster, check_number, grid_key, invalid, shared_store

__all__ = ["LeadingIndicators", "OBJECTIVES", "decayed_cell_counts", "cell_kernel", "INDICATORS",
           "REPORTED_INDICATORS"]

#: the default leading indicators of gun violence
INDICATORS = ("weapons_violation", "gun_assault", "narcotics", "violent_index", "battery", "armed_robbery")
#: the same without the categories recorded mostly through police activity (stops, searches, buy-busts)
REPORTED_INDICATORS = ("gun_assault", "violent_index", "battery", "armed_robbery")

#: target surfaces of the default model
TARGET_FEATURES = ((365, 0), (365, 750), (365, 1250), (365, 2500), (None, 0), (None, 1250), (30, 1500), (90, 750))
#: near-repeat / short-term self-excitation surfaces: 7- and 30-day half-lives in the cell, 14 days within 750 ft
NEAR_REPEAT_FEATURES = ((7, 0), (14, 750), (30, 0))
#: settings of the registry's ``leading_bagged``: seed averaging over 3 boosters, each on its own 5% draw of
#: the event-free rows (together about the rows of one 10% draw, so about 1.5x the boosting time of one),
#: near-repeat surfaces and the time of year
BAGGED = {"target_features": TARGET_FEATURES + NEAR_REPEAT_FEATURES, "season": True, "n_seeds": 3,
          "zero_sample": 0.05}

#: learning objectives of ``LeadingIndicators`` (see its ``objective`` setting)
OBJECTIVES = ("poisson", "binary")
#: the pre-registered small-area candidate (round five): ``leading_bagged`` learning P(at least one event)
HIT = dict(BAGGED, objective="binary")

_KERNELS: "OrderedDict[tuple, object]" = OrderedDict()
_KERNEL_CACHE_SIZE = 8
#: bytes of surfaces kept for other leading-indicator models at the same origin inside
#: ``forecast.base.shared_fit_work`` (a backtest); ``leading_bagged``'s 23 surfaces are ~0.5 GB
_SHARED_SURFACE_BYTES = 1 << 30

# fixed booster settings (row and column subsampling, L2), as validated
_SUBSAMPLE = 0.8
_COLSAMPLE = 0.8
_L2 = 1.0


def decayed_cell_counts(t: np.ndarray, cell: np.ndarray, origins: np.ndarray, n_cells: int,
                        half_life_days: float | None) -> np.ndarray:
    """Decayed event counts per cell at each origin, shape ``(n_cells, len(origins))``.

    Column ``k`` is ``sum over events with t < origins[k] of 2 ** (-(origins[k] - t) / half_life)``
    per cell (plain counts when ``half_life_days`` is None). ``t`` must be sorted and
    ``origins`` increasing; one pass over the events: each column is the previous
    one decayed by the gap plus the events in between. Computed by a Numba kernel
    (:mod:`crimescope.forecast._leading_kernels`) when Numba is installed, giving the values of
    :func:`decayed_cell_counts_numpy` bit for bit at about half its cost.
    """
    try:
        from ._leading_kernels import decayed_counts
    except ImportError:  # pragma: no cover - numba comes with the [models] extra, as lightgbm does
        return decayed_cell_counts_numpy(t, cell, origins, n_cells, half_life_days)
    origins = np.asarray(origins, dtype=float)
    t = np.asarray(t, dtype=float)
    cut = np.searchsorted(t, origins, side="left").astype(np.int64)
    cell = np.asarray(cell, dtype=np.int64)
    if cell.size and (cell.min() < 0 or cell.max() >= n_cells):
        raise invalid("cell", f"<indices {cell.min()}..{cell.max()}>", f"kept-cell indices in 0..{int(n_cells) - 1}")
    if half_life_days is None:
        return decayed_counts(cell, np.empty(0), np.empty(0), cut, int(n_cells), True)
    hl = float(half_life_days)
    # the weights as the NumPy loop computes them (its exp2, elementwise the same operations): each
    # event's age at the first origin after it, and each origin's decay since the one before
    at = np.repeat(origins, np.diff(cut, prepend=0))
    weight = np.exp2(-(at - t[:cut[-1] if cut.size else 0]) / hl)
    decay = np.ones(origins.size)
    decay[1:] = np.exp2(-(origins[1:] - origins[:-1]) / hl)
    return decayed_counts(cell, weight, decay, cut, int(n_cells), False)


def decayed_cell_counts_numpy(t: np.ndarray, cell: np.ndarray, origins: np.ndarray, n_cells: int,
                              half_life_days: float | None) -> np.ndarray:
    """:func:`decayed_cell_counts` in NumPy (the reference the Numba kernel is checked against)."""
    origins = np.asarray(origins, dtype=float)
    out = np.empty((origins.size, n_cells))  # one row per origin (contiguous writes), transposed at the end
    cut = np.searchsorted(t, origins, side="left")
    acc = np.zeros(n_cells)
    prev_i, prev_o = 0, None
    for k, (o, i) in enumerate(zip(origins, cut)):
        seg = slice(prev_i, int(i))
        if half_life_days is None:
            acc += np.bincount(cell[seg], minlength=n_cells)
        else:
            hl = float(half_life_days)
            if prev_o is not None:
                acc *= np.exp2(-(o - prev_o) / hl)
            acc += np.bincount(cell[seg], weights=np.exp2(-(o - t[seg]) / hl), minlength=n_cells)
        out[k] = acc
        prev_i, prev_o = int(i), o
    return np.ascontiguousarray(out.T)


def cell_kernel(grid, bandwidth: float):
    """Sparse ``(n_cells, n_cells)`` map spreading each cell's count over the cells within ``bandwidth``.

    ``M[i, j]`` is the quartic kernel ``(1 - (d_ij/h)^2)^2`` between the clipped
    centroids, normalised so every column sums to 1 (a cell's count is shared,
    never created or lost). Cached per (grid, bandwidth).
    """
    import scipy.sparse as sp

    from .hotspot import pairs_within

    key = grid_key(grid) + (float(bandwidth),)
    hit = _KERNELS.get(key)
    if hit is not None:
        _KERNELS.move_to_end(key)
        return hit
    cx, cy = grid.centroids()
    h = float(bandwidth)
    i, j, d = pairs_within(cx, cy, cx, cy, h)
    k = (1.0 - (d / h) ** 2) ** 2
    norm = np.bincount(j, weights=k, minlength=grid.n_cells)
    m = sp.csr_matrix((k / norm[j], (i, j)), shape=(grid.n_cells, grid.n_cells))
    _KERNELS[key] = m
    while len(_KERNELS) > _KERNEL_CACHE_SIZE:
        _KERNELS.popitem(last=False)
    return m


def _shared_surfaces(origins: np.ndarray) -> dict | None:
    """The surfaces kept for this origin inside a ``shared_fit_work`` block (None outside one).

    The backtest fits ``leading_bagged``, ``leading_indicators`` and ``leading_reported`` at each
    origin on the same events and training origins; most of their surfaces are the same arrays.
    Only the current origin's are kept.
    """
    store = shared_store()
    if store is None:
        return None
    now = float(origins[-1])
    kept = store.get("leading_surfaces")
    if kept is None or kept["as_of"] != now:
        kept = store["leading_surfaces"] = {"as_of": now, "items": {}, "bytes": 0}
    return kept


def _fingerprint(arr: EventArrays, origins: np.ndarray, grid) -> tuple:
    """What a surface depends on: the category's events (times, cells), the origins and the grid."""
    import hashlib

    h = hashlib.sha1()
    for a in (arr.t, arr.cell, origins):
        h.update(memoryview(np.ascontiguousarray(a)).cast("B"))
    return (arr.n, h.hexdigest()) + grid_key(grid)


def _check_features(name: str, value) -> None:
    ok = isinstance(value, (tuple, list)) and len(value) > 0
    for f in value if ok else ():
        if not (isinstance(f, (tuple, list)) and len(f) == 2):
            ok = False
            break
        hl, bw = f
        hl_ok = hl is None or (isinstance(hl, (int, float)) and not isinstance(hl, bool) and hl > 0)
        bw_ok = isinstance(bw, (int, float)) and not isinstance(bw, bool) and bw >= 0
        ok = ok and hl_ok and bw_ok
    if not ok:
        raise invalid(name, value, "a non-empty tuple of (half_life_days or None, bandwidth >= 0) pairs")


class LeadingIndicators(Forecaster):
    """LightGBM Poisson regression on smoothed, decayed surfaces of the target and related categories.

    Defaults were fixed on the weekly gun-violence windows of 2014-2016 (trained on
    the years before each) before the model was ever run on 2017; see
    docs/forecasting.md for the protocol and the figures.

    Responsible use: two of the default indicators, narcotics and weapons violations,
    are recorded mostly through police activity (stops, searches, buy-busts): where
    police look more they record more, so a model fed by them can point patrols back
    where patrols already are. The registry's ``leading_reported`` leaves them out;
    the backtest report shows how each model's flagged area is spread over community
    areas against where the target happened.

    Parameters
    ----------
    related : tuple of str
        Categories used as leading indicators (rows tagged with these names in the
        events' ``category`` column). Absent categories contribute zero features.
    target_category : str or None
        The category to forecast; None: every row whose category is not in
        ``related`` (every row when there is no ``category`` column).
    target_features, related_features : tuple of (half_life_days or None, bandwidth)
        The surfaces computed for the target and for each related category;
        bandwidth 0 is the cell's own count.
    target_days : float
        Length of the training target window; other horizons scale by ``horizon / target_days``.
    n_origins, origin_step_days : int, float
        Training origins: ``as_of - target_days - k * origin_step_days``, ``k < n_origins``.
    zero_sample : float
        Share of the event-free training rows kept (weighted by its inverse).
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf : booster rounds, step,
        leaves per tree, least rows per leaf.
    random_state : int
        Seed of the row sampling and the booster (one thread, deterministic).
    n_seeds : int
        Boosters averaged, seeds ``random_state, random_state + 1, ...``, each on its own draw
        of the event-free rows.
    season : bool
        Add the origin's time of year (sine and cosine) as features.
    objective : {"poisson", "binary"}
        ``"poisson"``: the booster learns the expected count. ``"binary"``: it learns the
        probability ``p`` that the cell has at least one event in ``target_days`` (label
        ``count >= 1``), and the forecast is ``-log(1 - p)``, the Poisson mean with that
        probability: a ranking of places by the chance of any event at all rather than by
        how many (for small flagged areas, where a cell with one sure event is worth more than
        one with a small chance of many). It only ranks; the registry rescales its total to
        the citywide level.

    Attributes
    ----------
    model_ : lightgbm.LGBMRegressor or None
    feature_names_ : list of str
    n_train_rows_ : int
        Rows the booster saw (after sampling).
    inactive_rate_ : float
        Expected events per ``target_days`` in an inactive cell.
    """

    summary = "gradient-boosted Poisson regression on smoothed surfaces of the target and leading-indicator crimes"

    def __init__(self, related: tuple = INDICATORS,
                 target_category: str | None = None,
                 target_features: tuple = TARGET_FEATURES,
                 related_features: tuple = ((365, 0), (365, 1250)),
                 target_days: float = 7, n_origins: int = 104, origin_step_days: float = 7,
                 zero_sample: float = 0.1, max_iter: int = 100, learning_rate: float = 0.1,
                 max_leaf_nodes: int = 15, min_samples_leaf: int = 200, random_state: int = 0,
                 n_seeds: int = 1, season: bool = False, objective: str = "poisson"):
        self.related = related
        self.target_category = target_category
        self.target_features = target_features
        self.related_features = related_features
        self.target_days = target_days
        self.n_origins = n_origins
        self.origin_step_days = origin_step_days
        self.zero_sample = zero_sample
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state
        self.n_seeds = n_seeds
        self.season = season
        self.objective = objective

    def related_categories(self) -> tuple[str, ...]:
        return tuple(self.related)

    def for_target(self, category: str) -> "LeadingIndicators":
        """Forecast ``category`` (unless ``target_category`` is already set), never using it as its own indicator."""
        if self.target_category is None:
            self.target_category = category
        self.related = tuple(c for c in self.related if c != self.target_category)
        return self

    def _validate(self) -> None:
        if not isinstance(self.related, (tuple, list)) or not all(isinstance(c, str) and c for c in self.related):
            raise invalid("related", self.related, "a tuple of category names")
        if self.target_category is not None and (not isinstance(self.target_category, str)
                                                 or self.target_category in self.related):
            raise invalid("target_category", self.target_category, "None or a category name not in related")
        _check_features("target_features", self.target_features)
        _check_features("related_features", self.related_features)
        check_number("target_days", self.target_days, low=0, low_open=True)
        check_number("n_origins", self.n_origins, low=1, integer=True)
        check_number("origin_step_days", self.origin_step_days, low=0, low_open=True)
        check_number("zero_sample", self.zero_sample, low=0, low_open=True, high=1)
        check_number("max_iter", self.max_iter, low=1, integer=True)
        check_number("learning_rate", self.learning_rate, low=0, low_open=True, high=1)
        check_number("max_leaf_nodes", self.max_leaf_nodes, low=2, integer=True)
        check_number("min_samples_leaf", self.min_samples_leaf, low=1, integer=True)
        check_number("random_state", self.random_state, low=0, integer=True)
        check_number("n_seeds", self.n_seeds, low=1, integer=True)
        if not isinstance(self.season, (bool, np.bool_)):
            raise invalid("season", self.season, "True or False")
        if self.objective not in OBJECTIVES:
            raise invalid("objective", self.objective, f"one of {', '.join(OBJECTIVES)}")

    # ------------------------------------------------------------------ features
    def _split(self, ev: EventArrays) -> tuple[EventArrays, dict[str, EventArrays]]:
        """The located target events and each related category's, computed once per fit.

        ``fit`` asks twice (the citywide level's times, then the features); the category column
        is factorised once instead of compared as Python objects for every category.
        """
        cached = getattr(self, "_split_cache", None)
        if cached is not None and cached[0] is ev:
            return cached[1]
        ok = ev.cell >= 0
        if ev.category is None:
            out = (ev.subset(ok), {})
        else:
            import pandas as pd

            if ev.category_codes is not None:  # factorised once when the events were prepared
                codes, names = ev.category_codes[ok], ev.category_names
            else:
                codes, names = pd.factorize(ev.category[ok])
            t, x, y, cell = ev.t[ok], ev.x[ok], ev.y[ok], ev.cell[ok]
            code = {c: i for i, c in enumerate(names)}

            def part(mask: np.ndarray) -> EventArrays:
                return EventArrays(t[mask], x[mask], y[mask], cell[mask], ev.as_of)

            if self.target_category is not None:
                is_target = codes == code.get(self.target_category, -2)
            else:
                is_target = ~np.isin(codes, [code[c] for c in self.related if c in code])
            related = {c: part(codes == code.get(c, -2)) for c in self.related}
            out = (part(is_target), related)
        self._split_cache = (ev, out)
        return out

    def _target_times(self, ev: EventArrays) -> np.ndarray:
        return self._split(ev)[0].t

    def _raw_surfaces(self, arr: EventArrays | None, specs, origins: np.ndarray, done: dict | None = None):
        """Yield ``(v, scale)`` per (half-life, bandwidth): ``v`` the ``(n_cells, n_origins)`` decayed (and
        smoothed) counts, ``scale`` the per-origin factor making them shares per 10,000 (``v * scale``).

        Kept apart so a caller gathers the few training rows before scaling (the same products,
        element by element, as scaling the whole array first). ``done`` maps specs computed already.
        """
        n = self.grid_.n_cells
        raw: dict = {}  # decayed counts per half-life, shared by its bandwidths
        shared, fp = _shared_surfaces(origins), None
        for hl, bw in specs:
            if done is not None and (hl, bw) in done:
                yield done[(hl, bw)]
                continue
            if arr is None or arr.n == 0:
                yield np.zeros((n, origins.size)), None
                continue
            key = None if hl is None else float(hl)
            if shared is not None:  # another leading model at this origin may have computed it
                fp = fp or _fingerprint(arr, origins, self.grid_)
                hit = shared["items"].get((fp, key, float(bw)))
                if hit is not None:
                    yield hit
                    continue
            if key not in raw:
                raw[key] = decayed_cell_counts(arr.t, arr.cell, origins, n, key)
            v = raw[key] if bw == 0 else cell_kernel(self.grid_, float(bw)) @ raw[key]
            tot = v.sum(axis=0)
            out = (v, 1e4 / np.where(tot > 0, tot, 1.0))
            if shared is not None and shared["bytes"] + v.nbytes <= _SHARED_SURFACE_BYTES:
                v.flags.writeable = False
                shared["items"][(fp, key, float(bw))] = out
                shared["bytes"] += v.nbytes
            yield out

    def _feature_parts(self, target: EventArrays, related: dict, origins: np.ndarray, done: dict | None = None):
        """Every feature in ``feature_names_`` order as ``(kind, values, scale)``: kind ``"surface"``, a
        ``(n_cells, n_origins)`` array with its per-origin scale (or None); ``"cell"``, a per-cell vector
        (the same at every origin); ``"origin"``, a per-origin vector (the same in every cell)."""
        for v, scale in self._raw_surfaces(target, self.target_features, origins, done):
            yield "surface", v, scale
        for c in self.related:
            for v, scale in self._raw_surfaces(related.get(c), self.related_features, origins):
                yield "surface", v, scale
        yield "cell", self.grid_.area / self.grid_.cell_size ** 2, None
        if self.season:  # the origin's time of year (1970-01-01 was day 0; +3 makes 0 = Jan 1 of a Monday year)
            doy = 2 * np.pi * ((origins + 3) % 365.25) / 365.25
            yield "origin", np.sin(doy), None
            yield "origin", np.cos(doy), None

    def _names(self) -> list[str]:
        def tag(c, hl, bw):
            return f"{c}_hl{'all' if hl is None else f'{hl:g}'}_bw{bw:g}"
        names = [tag("target", hl, bw) for hl, bw in self.target_features]
        names += [tag(c, hl, bw) for c in self.related for hl, bw in self.related_features]
        return names + ["area_fraction"] + (["season_sin", "season_cos"] if self.season else [])

    def _fit(self, ev: EventArrays) -> None:
        try:
            self._fit_split(ev)
        finally:
            self._split_cache = None  # do not keep the events alive past the fit

    def _fit_split(self, ev: EventArrays) -> None:
        target, related = self._split(ev)
        n = self.grid_.n_cells
        H = float(self.target_days)
        start = target.start if target.n else ev.as_of
        train = [ev.as_of - H - k * float(self.origin_step_days) for k in range(int(self.n_origins))]
        train = np.array(sorted(o for o in train if o > start))
        origins = np.append(train, ev.as_of)
        self.feature_names_ = self._names()
        # "active": some target event ever within the widest all-history smooth (or the cell itself)
        all_hist = [spec for spec in self.target_features if spec[0] is None]
        widest = max(all_hist or self.target_features, key=lambda spec: spec[1])
        done = {tuple(widest): next(self._raw_surfaces(target, [widest], origins))}
        v, scale = done[tuple(widest)]
        active = (v if scale is None else v * scale) > 0
        k_train = train.size
        y = np.empty((k_train, n))  # one row per origin, transposed below (same values, cell-major order)
        for k, o in enumerate(train):
            i0, i1 = np.searchsorted(target.t, [o, o + H], side="left")
            y[k] = np.bincount(target.cell[i0:i1], minlength=n)
        y = np.ascontiguousarray(y.T)
        act_tr = active[:, :k_train]
        inactive_y = y[~act_tr]
        self.inactive_rate_ = float(inactive_y.mean()) if inactive_y.size else 0.0
        ci, ki = np.nonzero(act_tr)
        yk = y[ci, ki]
        # one draw per seed of the event-free rows kept; X holds the union of the draws
        seeds = [int(self.random_state) + k for k in range(int(self.n_seeds))]
        draws = [(yk > 0) | (np.random.default_rng(sd).random(yk.size) < float(self.zero_sample)) for sd in seeds]
        union = np.logical_or.reduce(draws)
        ci, ki, yk = ci[union], ki[union], yk[union]
        draws = [d[union] for d in draws]
        self.n_train_rows_ = int(draws[0].sum())
        self._active_now = active[:, -1]
        # one feature at a time: only the training rows and the current column are kept; the rows are
        # gathered before a surface is scaled to shares (each kept value is the same product)
        n_feat = len(self.feature_names_)
        X = np.empty((n_feat, yk.size))
        self._x_now = np.empty((n, n_feat))
        flat = ci * origins.size + ki
        for j, (kind, v, scale) in enumerate(self._feature_parts(target, related, origins, done)):
            if kind == "cell":
                X[j] = v[ci]
                self._x_now[:, j] = v
            elif kind == "origin":
                X[j] = v[ki]
                self._x_now[:, j] = v[-1]
            elif scale is None:
                X[j] = np.take(v.reshape(-1), flat)
                self._x_now[:, j] = v[:, -1]
            else:
                X[j] = np.take(v.reshape(-1), flat) * scale[ki]
                self._x_now[:, j] = v[:, -1] * scale[-1]
            del v
        X = np.ascontiguousarray(X.T)
        done.clear()
        if yk.size == 0 or yk.sum() <= 0:
            self.model_ = None
            self.models_ = []
            span = max(ev.as_of - start, 1.0)
            self._fallback = np.bincount(target.cell, minlength=n) / span * H
            return
        w = np.where(yk > 0, 1.0, 1.0 / float(self.zero_sample))
        if self.objective == "binary":  # P(at least one event in target_days)
            yk = (yk > 0).astype(float)
            self.inactive_rate_ = float((inactive_y > 0).mean()) if inactive_y.size else 0.0
        # seed averaging (bagging over the zero-row draw and the booster's row/column sampling)
        self.models_ = [self._booster(sd).fit(X[d], yk[d], sample_weight=w[d]) for sd, d in zip(seeds, draws)]
        self.model_ = self.models_[0]

    def _booster(self, seed: int):
        try:
            import lightgbm as lgb
        except ImportError as exc:  # pragma: no cover - depends on the environment
            from ..errors import CrimescopeError

            raise CrimescopeError("the leading_indicators model needs LightGBM: "
                                  "pip install 'crimescope[models]'") from exc
        return lgb.LGBMRegressor(
            objective=str(self.objective), n_estimators=int(self.max_iter), learning_rate=float(self.learning_rate),
            num_leaves=int(self.max_leaf_nodes), min_child_samples=int(self.min_samples_leaf),
            subsample=_SUBSAMPLE, subsample_freq=1, colsample_bytree=_COLSAMPLE, reg_lambda=_L2,
            random_state=int(seed), deterministic=True, force_row_wise=True, n_jobs=1,
            verbose=-1)

    def _predict(self, horizon_days: float) -> np.ndarray:
        scale = horizon_days / float(self.target_days)
        if self.model_ is None:
            return self._fallback * scale
        out = np.full(self.grid_.n_cells, self.inactive_rate_)
        if self._active_now.any():
            # the boosters' mean at the current features does not depend on the horizon: once per fit
            if getattr(self, "_mean_now", None) is None or self._mean_now[0] is not self.models_:
                x = self._x_now[self._active_now]
                self._mean_now = (self.models_, np.mean([m.predict(x) for m in self.models_], axis=0))
            out[self._active_now] = self._mean_now[1]
        if self.objective == "binary":  # probability of any event -> the Poisson mean with that probability
            out = -np.log1p(-np.clip(out, 0.0, 1.0 - 1e-12))
        return np.maximum(out, 0.0) * scale
