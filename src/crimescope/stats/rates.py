"""Rates per 100,000 residents: community areas, districts (apportioned) and citywide.

Populations are the 2010 and 2020 Census counts per community area in
``<shared data>/chicago/population``. No population is published by police
district, so a district's population is apportioned from community areas by area
overlap: pop(d) = sum over community areas c of pop(c) * area(c ∩ d) / area(c), with the
boundaries of ``<shared data>/chicago/boundaries`` projected from EPSG:4326 to EPSG:3435
(Illinois State Plane East, US feet) with pyproj before areas are computed. This assumes
residents are spread evenly within a community area.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path

from ..categories import Taxonomy
from ..errors import ParameterError
from ._coverage import attach, covered, restrict
from .counts import base_meta
from .provenance import StatResult
from .query import as_date, count_expr, incidents_table, to_pandas

__all__ = ["rates_per_100k", "community_area_population", "district_population", "rates", "APPORTION_METHOD",
           "CENSUS_YEARS"]

#: the census years whose populations ship with the package (``census=`` takes one of them)
CENSUS_YEARS = (2010, 2020)

APPORTION_METHOD = (
    "district population apportioned from community-area census counts by area overlap: "
    "pop(d) = sum_c pop(c) * area(c ∩ d) / area(c), boundaries projected EPSG:4326 -> EPSG:3435 "
    "with pyproj; shares normalised to sum to 1 per community area (the two boundary files "
    "differ slightly along the lake and the city limits); assumes residents spread evenly "
    "within each community area"
)


def _shared(shared_dir=None) -> Path:
    """The reference data root: ``shared_dir``, else the shipped reference files (crimescope.reference)."""
    from ..reference import data_root

    d = data_root(shared_dir or None)
    if not (d / "chicago" / "population").is_dir():
        from ..errors import SetupError

        raise SetupError(f"population data not found under {d}: reinstall crimescope or set "
                         "CRIMESCOPE_SHARED_DATA to a folder of the shared layout")
    return d


def community_area_population(census: int, shared_dir=None):
    """DataFrame ``community_area`` (int 1-77), ``name``, ``population`` for a census year."""
    import pandas as pd

    from ..reference import open_text

    d = _shared(shared_dir) / "chicago" / "population"
    if census == 2010:
        with open_text(d / "community_areas_2010.csv") as fh:
            df = pd.read_csv(fh, dtype={"community_area": "int64"})
        df = df.rename(columns={"population_2010": "population"})
    elif census == 2020:
        # ids are zero-padded text ("01") in this file
        with open_text(d / "community_areas_2020.csv") as fh:
            df = pd.read_csv(fh, dtype={"community_area_id": str})
        df = df.rename(columns={"community_area_name": "name", "population_2020": "population"})
        df["community_area"] = df["community_area_id"].str.strip().astype("int64")
    else:
        raise ParameterError(f"--census must be {' or '.join(map(str, CENSUS_YEARS))}, not {census}")
    df = df[["community_area", "name", "population"]].sort_values("community_area").reset_index(drop=True)
    df["population"] = df["population"].astype("int64")
    return df


def _project(geom):
    import numpy as np
    import shapely
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", "EPSG:3435", always_xy=True)

    def f(xy):
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.make_valid(shapely.transform(geom, f))


def _read_geojson(path: Path, key: str) -> dict:
    from shapely.geometry import shape
    from shapely.ops import unary_union

    from ..reference import read_text

    doc = json.loads(read_text(path))
    parts: dict[int, list] = {}
    for feat in doc["features"]:
        k = int(float(feat["properties"][key]))
        parts.setdefault(k, []).append(_project(shape(feat["geometry"])))
    return {k: unary_union(v) for k, v in parts.items()}


@lru_cache(maxsize=4)
def _district_weights(shared: str):
    """{(community_area, district): share of the community area's area inside the district}."""
    b = Path(shared) / "chicago" / "boundaries"
    cas = _read_geojson(b / "community_areas.geojson", "area_numbe")
    dists = _read_geojson(b / "police_districts.geojson", "dist_num")
    out = {}
    for c, cg in cas.items():
        area = cg.area
        for d, dg in dists.items():
            if cg.intersects(dg):
                share = cg.intersection(dg).area / area
                if share > 0:
                    out[(c, d)] = share
    # the two boundary files differ slightly (lakefront, city limits): normalise so that
    # each community area's residents are fully assigned
    tot: dict[int, float] = {}
    for (c, _), w in out.items():
        tot[c] = tot.get(c, 0.0) + w
    return {(c, d): w / tot[c] for (c, d), w in out.items()}


def district_population(census: int, shared_dir=None):
    """DataFrame ``district``, ``population`` (float, apportioned; see ``APPORTION_METHOD``)."""
    import pandas as pd

    shared = _shared(shared_dir)
    pop = community_area_population(census, shared).set_index("community_area")["population"]
    acc: dict[int, float] = {}
    for (c, d), w in _district_weights(str(shared)).items():
        acc[d] = acc.get(d, 0.0) + float(pop.get(c, 0)) * w
    return pd.DataFrame(sorted(acc.items()), columns=["district", "population"])


def _default_census(s: dt.date, e: dt.date) -> int:
    mid = s + (e - s) / 2
    return 2010 if mid.year < 2015 else 2020


def rates(store, category, start, end, by: str = "community_area", census: int | None = None, *,
          source: str | None = None, shared_dir=None, taxonomy: Taxonomy | None = None) -> StatResult:
    """Count and rate per 100,000 residents of ``category`` from ``start`` to ``end``.

    ``by``: ``community_area`` (2010/2020 census), ``district`` (apportioned) or
    ``citywide``. ``table`` columns: the area, ``count``, ``population``,
    ``rate_per_100k`` (for the whole period) and ``annualized_rate_per_100k``.
    Records without an area get a row with no population or rate, so counts sum to the total.
    ``taxonomy`` resolves a category name (default: the built-in taxonomy).
    """
    import pandas as pd

    from ..datasets import as_dataset

    ds = as_dataset(store, source)
    store, source = ds.store, ds.key
    if not any(a.population for a in ds.profile.area_kinds.values()):
        raise ParameterError(f"{ds.profile.name} ({ds.key}): no population table is shipped, so no rates; "
                             "counts are available (`crimescope count`)")
    cat = ds.category(category, taxonomy)
    s, e = as_date(start, "start"), as_date(end, "end")
    if by not in ("community_area", "district", "citywide"):
        raise ParameterError("--by must be community_area, district or citywide")
    cov = covered(store, source, cat, s, e)  # refuses what the store lacks
    census = census or _default_census(s, e)
    days = (e - s).days + 1
    t = incidents_table(store.ibis(), source=source)
    if not cov.full:
        t = restrict(t, cov.covered)
    ca_pop = community_area_population(census, shared_dir)
    if by == "citywide":
        n = int(to_pandas(count_expr(t, cat, s, e))["count"].iloc[0])
        df = pd.DataFrame({"area": ["citywide"], "count": [n], "population": [float(ca_pop["population"].sum())]})
        method = f"{census} census: city population = sum of the 77 community areas"
    else:
        counts = to_pandas(count_expr(t, cat, s, e, [by]))
        counts["count"] = counts["count"].astype("int64")
        if by == "community_area":
            pop = ca_pop[["community_area", "population"]].astype({"population": "float64"})
            method = f"{census} census population per community area"
        else:
            pop = district_population(census, shared_dir)
            method = f"{census} census; {APPORTION_METHOD}"
        df = pop.merge(counts, on=by, how="outer")
        df[by] = df[by].astype("Int64")
        df["count"] = df["count"].fillna(0).astype("int64")
        df = df[[by, "count", "population"]].sort_values(by, na_position="last").reset_index(drop=True)
    rate = df["count"] / df["population"] * 100_000
    df["rate_per_100k"] = rate.round(2)
    df["annualized_rate_per_100k"] = (rate * 365.25 / days).round(2)
    df["population"] = df["population"].round(0)
    tested = None
    if by != "citywide":  # each area vs the rest of the city (stats/significance.py)
        from . import significance as sig

        df, tested = sig.area_tests(df)
    meta = base_meta(store, cat, source)
    meta.update(title=f"{cat.label} per 100,000 residents, {s} to {e}", period=f"{s} to {e} (inclusive, {days} days)",
                start=s, end=e, by=by, census=census, population_method=method,
                notes=[method, "rate_per_100k is for the whole period; annualized = rate * 365.25 / days",
                       "rows without a population are records with no area (kept so counts sum to the total)"])
    if tested is not None:
        meta["tests"] = {"method": sig.AREA_METHOD, **tested}
        meta["notes"] += [f"{tested['flagged']} of {tested['tested']} areas are beyond normal variation vs the rest of "
                          f"the city; " + sig.AREA_METHOD, sig.TABLE_NOTE]
    attach(meta, cov)
    if not cov.full:
        meta["notes"].append("the annualized rate divides by the days of the whole period, covered or not: "
                             "read it for the covered days only with the period cut to them")
    return StatResult(df, meta)


#: package-level name (``crimescope.stats.rates_per_100k``)
rates_per_100k = rates
