"""City-level annual counts and rates per 100,000 from published tables.

Sources (``<shared data>/cities``):

* The Marshall Project's extract of FBI UCR "offenses known" for 69 large agencies,
  1975-2015 (homicides, rapes, robberies, aggravated assaults, violent crime,
  population, months reported). Years with fewer than 12 months reported are flagged
  partial.
* FiveThirtyEight's murder counts: 2014 and 2015 final (FBI UCR, 83 cities) and 2016
  preliminary **partial-year** counts (79 cities, each with its own ``as_of`` cut-off;
  its 2015 column is the same partial span of 2015). These tables have no population;
  the rate uses the agency's 2015 population from the Marshall table where the city is
  there (flagged ``population_year`` 2015), else no rate.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

from ..errors import CrimescopeError, ParameterError
from .provenance import StatResult

__all__ = ["city_counts", "cities", "published_years", "METRICS"]

#: metric -> Marshall column
METRICS = {
    "homicides": "homs_sum",
    "rapes": "rape_sum",
    "robberies": "rob_sum",
    "aggravated_assaults": "agg_ass_sum",
    "violent_crime": "violent_crime",
}

MARSHALL = "The Marshall Project, FBI UCR offenses known to law enforcement, 69 agencies 1975-2015"
F38_FINAL = "FiveThirtyEight, murders 2014-2015 (FBI UCR final)"
F38_PRELIM = "FiveThirtyEight, preliminary 2016 murders (PARTIAL YEAR, per-city as_of)"


def _dir(shared_dir=None) -> Path:
    from ..settings import shared_data_dir

    d = Path(shared_dir) / "cities" if shared_dir else (shared_data_dir() or Path("/nonexistent")) / "cities"
    if not d.is_dir():
        raise CrimescopeError("city tables not found: set CRIMESCOPE_SHARED_DATA to the shared data folder")
    return d


def _city_key(name: str) -> str:
    base = str(name).split(",")[0].strip()
    return {"New York City": "New York"}.get(base, base).lower()


@lru_cache(maxsize=2)
def _marshall(d: str):
    import pandas as pd

    df = pd.read_csv(Path(d) / "marshall_ucr_crime_1975_2015.csv", na_values=["NA"])
    df = df[df["department_name"] != "National"].copy()
    df["key"] = df["department_name"].map(_city_key)
    return df


def cities(metric: str = "homicides", year: int = 2015, *, top: int | None = None,
           source: str = "auto", shared_dir=None) -> StatResult:
    """Counts and rates per 100,000 for the large cities in a year.

    ``source``: ``auto`` (Marshall for 1975-2015, FiveThirtyEight preliminary for 2016),
    ``marshall`` or ``fivethirtyeight`` (murders 2014-2016). ``table`` columns: ``city``,
    ``year``, ``count``, ``population``, ``rate_per_100k``, ``partial_year``, ``as_of``,
    ``months_reported``, ``source``; sorted by count, descending.
    """
    import pandas as pd

    if metric not in METRICS:
        raise ParameterError(f"--metric must be one of {', '.join(METRICS)}")
    d = _dir(shared_dir)
    year = int(year)
    if source == "auto":
        source = "marshall" if 1975 <= year <= 2015 else "fivethirtyeight"
    notes = []
    prev_of: dict = {}  # city -> (previous year's count, population), for the test
    if source == "marshall":
        if not 1975 <= year <= 2015:
            raise ParameterError("the Marshall UCR table covers 1975-2015")
        m_all = _marshall(str(d))
        m = m_all[m_all["year"] == year]
        col = METRICS[metric]
        prev = m_all[m_all["year"] == year - 1].set_index("department_name")
        prev_of = {k: (prev.at[k, col], prev.at[k, "total_pop"]) for k in prev.index}
        df = pd.DataFrame({
            "city": m["department_name"], "year": year, "count": m[col],
            "population": m["total_pop"], "months_reported": m["months_reported"],
        })
        df["partial_year"] = df["months_reported"].notna() & (df["months_reported"] < 12)
        df["as_of"] = None
        df["source"] = MARSHALL
        notes.append("FBI UCR 'murder and non-negligent manslaughter' for homicides (excludes "
                     "justifiable homicide and negligent manslaughter)")
        notes.append("partial_year: fewer than 12 months reported to the FBI; months_reported empty = not given")
    elif source == "fivethirtyeight":
        if metric != "homicides":
            raise ParameterError("the FiveThirtyEight tables have murders only (--metric homicides)")
        pop = _marshall(str(d))
        pop15 = pop[pop["year"] == 2015].set_index("key")["total_pop"]
        if year in (2014, 2015):
            f = pd.read_csv(d / "fivethirtyeight_murder_2015_final.csv")
            df = pd.DataFrame({"city": f["city"] + ", " + f["state"], "year": year,
                               "count": f[f"{year}_murders"], "key": f["city"].str.lower()})
            df["partial_year"] = False
            df["as_of"] = None
            df["source"] = F38_FINAL
            if year == 2015:
                prev_of = {c: (n, None) for c, n in zip(df["city"], f["2014_murders"])}
        elif year == 2016:
            f = pd.read_csv(d / "fivethirtyeight_murder_2016_prelim.csv")
            df = pd.DataFrame({"city": f["city"] + ", " + f["state"], "year": year,
                               "count": f["2016_murders"], "key": f["city"].str.lower()})
            df["partial_year"] = True
            df["as_of"] = [dt.datetime.strptime(s.strip(), "%m/%d/%Y").date() for s in f["as_of"]]
            df["same_span_2015"] = f["2015_murders"]
            prev_of = {c: (n, None) for c, n in zip(df["city"], f["2015_murders"])}
            df["source"] = F38_PRELIM
            notes.append("PARTIAL YEAR: 2016 counts run from Jan 1 to each city's as_of date; "
                         "same_span_2015 is the same span of 2015. Not comparable with full-year figures.")
        else:
            raise ParameterError("the FiveThirtyEight tables cover 2014, 2015 and 2016 (partial)")
        df["population"] = df["key"].map(pop15)
        df["months_reported"] = None
        df = df.drop(columns="key")
        notes.append("population: the agency's 2015 population from the Marshall/FBI table where "
                     "the city is there, else empty (no rate)")
    else:
        raise ParameterError("--source must be auto, marshall or fivethirtyeight")
    df["count"] = df["count"].astype("Int64")
    df["rate_per_100k"] = (df["count"].astype("float64") / df["population"] * 100_000).round(2)
    df = df.sort_values("count", ascending=False, na_position="last").reset_index(drop=True)
    from . import significance as sig  # each city vs its previous year, BH across all cities (before --top)

    pv = [prev_of.get(c, (None, None)) for c in df["city"]]
    same_pop = "same_span_2015" in df.columns or (source == "fivethirtyeight")
    df, tested = sig.city_tests(df, [None if pd.isna(a) else a for a, _ in pv],
                                [None if same_pop or b is None or pd.isna(b) else b for _, b in pv])
    if top:
        df = df.head(int(top))
    cols = ["city", "year", "count", "population", "rate_per_100k", "partial_year", "as_of",
            "months_reported", "source", "rate_ratio", "ci_low", "ci_high", "p_value", "q_value", "flagged", "label"]
    if "same_span_2015" in df.columns:
        cols.insert(3, "same_span_2015")
    meta = {
        "title": f"{metric} in {year}, large US cities",
        "unit": "offenses known to police (UCR counts victims for murder)" if metric == "homicides"
                else "offenses known to police",
        "rule": f"metric {metric}",
        "source": df["source"].iloc[0] if len(df) else source,
        "metric": metric, "year": year,
        "notes": notes + ["rate_per_100k = count / population * 100,000",
                          f"{tested['flagged']} of {tested['tested']} cities changed beyond normal variation; "
                          + sig.CITY_METHOD, sig.TABLE_NOTE],
        "tests": {"method": sig.CITY_METHOD, **tested},
    }
    return StatResult(df[cols], meta)


#: package-level name (``crimescope.stats.city_counts``)
city_counts = cities


def published_years(city: str, *, shared_dir=None) -> list[dict]:
    """The city's published **full-year** murder counts in the city tables: ``year``, ``count``,
    ``source`` - The Marshall Project's UCR extract (years with 12 months reported, or months not
    given) and FiveThirtyEight's 2014-2015 finals (FBI UCR "murder and non-negligent
    manslaughter"). Both are kept where both give a year (2014: 415 and 411 for Chicago). The
    2016 preliminary table is a partial year and is left out. Raises :class:`CrimescopeError`
    when the tables are not found."""
    return [dict(r) for r in _published_years(_city_key(city), str(_dir(shared_dir)))]


@lru_cache(maxsize=8)
def _published_years(key: str, d: str) -> tuple:
    import pandas as pd

    d = Path(d)
    m = _marshall(str(d))
    m = m[(m["key"] == key) & m["homs_sum"].notna() & (m["months_reported"].isna() | (m["months_reported"] >= 12))]
    out = [{"year": int(y), "count": int(n), "source": MARSHALL} for y, n in zip(m["year"], m["homs_sum"])]
    f = pd.read_csv(d / "fivethirtyeight_murder_2015_final.csv")
    f = f[f["city"].map(_city_key) == key]
    for year in (2014, 2015):
        out += [{"year": year, "count": int(n), "source": F38_FINAL} for n in f[f"{year}_murders"].dropna()]
    seen, rows = set(), []
    for r in sorted(out, key=lambda r: (r["year"], r["count"], r["source"])):
        if (r["year"], r["count"]) not in seen:  # the same figure from both tables once (Marshall's)
            seen.add((r["year"], r["count"]))
            rows.append(r)
    return tuple(rows)
