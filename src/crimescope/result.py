"""One result type for every analysis: a table plus its provenance, and the renderers.

Every analysis of crimescope returns a :class:`Result` (or a thin subclass: the
counting ``StatResult``, the spatial ``*Result`` classes, ``Forecast``,
``BacktestResult``, ``ClaimReport``). A result has

``frame()``
    the figures as a pandas DataFrame (for ``StatResult`` the ``table`` attribute;
    spatial results give one row per unit, a forecast one row per cell);
``meta``
    a dict that says what the figures count, built by :func:`provenance`: ``unit``
    (what one counted row is), ``rule`` (the category's codes), ``source`` (the
    publisher's description of the data), ``vintage`` (see
    :func:`crimescope.stats.provenance.data_vintage`), plus ``title``, ``period``,
    the parameters and ``notes``.

and renderers that all carry the provenance:

========== ============================================== ===========================
format     method                                         where the provenance is
========== ============================================== ===========================
table      :meth:`Result.to_text`                         caption lines under the table
CSV        :meth:`Result.to_csv`                          leading ``# `` lines
JSON       :meth:`Result.to_dict` / :meth:`to_json`       the ``meta`` member
GeoJSON    :meth:`Result.to_geojson`                      the ``meta`` member
Parquet    :meth:`Result.to_parquet`                      file metadata key ``crimescope``
========== ============================================== ===========================

:meth:`Result.render` gives the text formats by name, :meth:`Result.write` writes a
file by its suffix. :func:`read_parquet_meta` reads the provenance of a Parquet file
back.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

__all__ = ["Result", "provenance", "read_parquet_meta", "FORMATS", "FILE_SUFFIXES", "PARQUET_META_KEY",
           "PROVENANCE_KEYS"]

#: the text formats of :meth:`Result.render` (CLI ``--format``)
FORMATS = ("table", "csv", "json", "geojson")
#: file suffixes :meth:`Result.write` knows
FILE_SUFFIXES = (".csv", ".json", ".geojson", ".parquet", ".txt")
#: the Parquet schema metadata key holding the provenance (JSON text)
PARQUET_META_KEY = "crimescope"
#: what every output must state
PROVENANCE_KEYS = ("unit", "rule", "source", "vintage")


def provenance(store: Any = None, category: Any = None, *, source: str | None = None, vintage: Any = None,
               batch: int | None = None, unit: str | None = None, per: str | None = None,
               rule: str | None = None, title: str | None = None, period: str | None = None,
               notes: Any = (), **extra: Any) -> dict:
    """The provenance of figures computed from ``store``: the one place it is built.

    Parameters
    ----------
    store : crimescope.datasets.Dataset, crimescope.store.Store or None
        The data counted (its data vintage for ``source`` is read, cached); a Store
        means the profile named by ``source`` (default Chicago).
    category : str or Category, optional
        The counted category: gives ``category``, ``label``, ``unit``, ``rule``,
        ``definition``, ``category_source`` and ``category_file`` (the user file of a
        user category).
    source : str, optional
        City profile / store source key (``chicago``, ``nyc_shootings``); default: the
        Dataset's, else Chicago.
    vintage, batch : optional
        Count as of this ``updated_at`` / ingest batch (see ``incidents_table``).
    unit, rule : str, optional
        Override the category's unit / rule text (e.g. several categories).
    per : str, optional
        Appended to the unit: ``per="grid cell"`` gives ``"... per grid cell"``.
    title, period : str, optional
    notes : iterable of str
        Caveats, listed in every output.
    **extra
        Further entries (the parameters used, method, counts of records left out...).

    Returns
    -------
    dict
        ``title``, ``category``..., ``unit``, ``rule``, ``source`` (the description),
        ``vintage`` (a dict with ``source``, ``max_updated_at``, ``latest_batch_at``...),
        ``dates``, ``period``, the ``extra`` entries and ``notes`` (when given); None
        values of the optional arguments are left out.
    """
    meta: dict[str, Any] = {}
    ds = None
    if store is not None:
        from .datasets import as_dataset

        ds = as_dataset(store, source)
    if title is not None:
        meta["title"] = title
    if category is not None:
        from .categories import get_category
        from .stats.counts import category_source, rule_text, unit_text

        cat = ds.category(category) if ds is not None and isinstance(category, str) else get_category(category)
        meta.update(category=cat.name, label=cat.label, unit=unit_text(cat, ds.profile if ds else None),
                    rule=rule_text(cat), definition=cat.definition, category_source=category_source(cat),
                    category_file=cat.origin)
    if unit is not None:
        meta["unit"] = unit
    if per is not None and meta.get("unit"):
        meta["unit"] = f"{meta['unit']} per {per}"
    if rule is not None:
        meta["rule"] = rule
    if ds is not None:
        from .stats.provenance import data_vintage

        vint = data_vintage(ds.store, ds.key, vintage=vintage, batch=batch)
        meta["source"] = vint["source_description"]
        meta["publisher"] = ds.profile.publisher
        meta["city"] = ds.key
        meta["vintage"] = vint
        meta["dates"] = ds.profile.dates_text()
    if period is not None:
        meta["period"] = period
    meta.update(extra)
    if notes:
        meta["notes"] = list(notes)
    return meta


def _jsonable(v: Any) -> Any:
    from .stats.provenance import jsonable

    return jsonable(v)


class Result:
    """A table of figures plus the provenance that says what they count.

    Attributes
    ----------
    table : pandas.DataFrame
        The figures (for the counting results: one column per grouping, then the counts).
        Subclasses that compute their table from their attributes override
        :meth:`frame` instead.
    meta : dict
        The provenance (see :func:`provenance`): ``unit``, ``rule``, ``source``,
        ``vintage``, ``title``, the parameters and ``notes``. Empty until set for a
        result computed from bare arrays.
    """

    #: printf format of floats in CSV output (None: pandas' default, full precision)
    csv_float_format: str | None = None

    def __init__(self, table: Any, meta: dict | None = None) -> None:
        self.table = table
        self.meta = {} if meta is None else meta

    # ``meta`` is a property so that dataclass subclasses (whose generated __init__ does
    # not know it) still have one, empty until an analysis or the caller fills it.
    @property
    def meta(self) -> dict:
        m = self.__dict__.get("_meta")
        if m is None:
            m = self.__dict__["_meta"] = {}
        return m

    @meta.setter
    def meta(self, value: dict) -> None:
        self.__dict__["_meta"] = {} if value is None else value

    def __repr__(self) -> str:
        t = self.frame()
        shape = getattr(t, "shape", None)
        return f"{type(self).__name__}(title={self.meta.get('title')!r}, rows={shape[0] if shape else '?'})"

    # -- the figures --------------------------------------------------------------
    def frame(self):
        """The figures as a DataFrame (what every renderer writes)."""
        return self.table

    def geometries(self):
        """Shapely geometries in EPSG:4326 aligned with :meth:`frame` rows, or None.

        Results over spatial units (an attribute ``units`` with ``polygons()`` and
        ``crs``, one row per unit) give the unit polygons; a frame with ``lon`` and
        ``lat`` columns gives points; otherwise None (no GeoJSON).
        """
        import numpy as np

        df = self.frame()
        units, index = self.geo_units()
        if units is not None and hasattr(units, "polygons"):
            from .spatial.grid import LONLAT_CRS, project_geometry

            polys = np.asarray(units.polygons(), dtype=object)
            if index is not None:
                polys = polys[np.asarray(index)]
            if len(polys) == len(df):
                return project_geometry(polys, units.crs, LONLAT_CRS)
        if {"lon", "lat"} <= set(df.columns):
            import shapely

            return shapely.points(df["lon"].to_numpy(float), df["lat"].to_numpy(float))
        return None

    def geo_units(self):
        """``(units, index)``: the spatial units of the rows (or None) and, when the rows are
        a subset or a reordering of the units, the unit index of each row (else None)."""
        return getattr(self, "units", None), getattr(self, "unit_index", None)

    # -- provenance as text -----------------------------------------------------
    def caption_lines(self) -> list[str]:
        """The provenance as lines: title, unit, rule, period, source, data vintage, notes."""
        m = self.meta
        lines = []
        if m.get("title"):
            lines.append(str(m["title"]))
        for key in ("unit", "rule", "period", "periods", "source"):
            if m.get(key):
                lines.append(f"{key}: {m[key]}")
        v = m.get("vintage") or {}
        if v:
            s = f"data vintage: max updated_at {v.get('max_updated_at')}, latest batch {v.get('latest_batch_at')}"
            if v.get("as_of_vintage") or v.get("as_of_batch"):
                s += f" (counted as of vintage {v.get('as_of_vintage') or 'batch ' + str(v.get('as_of_batch'))})"
            lines.append(s)
        cov = m.get("coverage")
        if isinstance(cov, dict) and cov.get("status") == "full" and cov.get("text"):
            lines.append(str(cov["text"]))  # partial / refused coverage is said in a note
        for n in m.get("notes", []) or []:
            lines.append(f"note: {n}")
        return lines

    # -- renderers ------------------------------------------------------------------
    def to_csv(self, path: Any = None) -> str:
        """CSV text with leading ``# `` comment lines stating unit, rule, source, vintage.

        With ``path`` the text is also written there. Read it back with
        ``pandas.read_csv(..., comment="#")``.
        """
        buf = io.StringIO()
        for line in self.caption_lines():
            buf.write("# " + line.replace("\n", " ") + "\n")
        self.frame().to_csv(buf, index=False, lineterminator="\n", float_format=self.csv_float_format)
        text = buf.getvalue()
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_dict(self) -> dict:
        """``{"meta": ..., "rows": [...]}``, JSON-safe (NaN -> None, dates -> ISO text)."""
        rows = [{k: _jsonable(v) for k, v in r.items()} for r in self.frame().to_dict(orient="records")]
        return {"meta": _jsonable(self.meta), "rows": rows}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)

    def to_geojson(self, top: int | None = None) -> dict:
        """A GeoJSON FeatureCollection (EPSG:4326) with the provenance as its ``meta`` member.

        Each feature's properties are one row of :meth:`frame`; ``top`` keeps the
        first ``top`` rows. A result without geometry raises ParameterError.
        """
        import shapely

        from .errors import ParameterError

        geo = self.geometries()
        if geo is None:
            raise ParameterError(f"{type(self).__name__} has no geometry: use csv, json or parquet, not GeoJSON")
        df = self.frame()
        if len(geo) != len(df):
            raise ParameterError("rows and geometries differ in number")
        geo = shapely.set_precision(geo, 1e-7)  # about 1 cm: smaller files, no false accuracy
        n = len(df) if top is None else min(int(top), len(df))
        cols = list(df.columns)
        values = df.to_numpy(dtype=object)
        feats = []
        for g, row in zip(shapely.to_geojson(geo[:n]), values[:n]):
            feats.append({"type": "Feature", "geometry": json.loads(g),
                          "properties": {c: _jsonable(v) for c, v in zip(cols, row)}})
        return {"type": "FeatureCollection", "meta": _jsonable(self.meta), "features": feats}

    def to_parquet(self, path: Any) -> Path:
        """Write the frame as Parquet with the provenance in the file metadata (key ``crimescope``)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        p = Path(path)
        table = pa.Table.from_pandas(self.frame(), preserve_index=False)
        md = dict(table.schema.metadata or {})
        md[PARQUET_META_KEY.encode()] = json.dumps(_jsonable(self.meta), default=str).encode("utf-8")
        pq.write_table(table.replace_schema_metadata(md), p)
        return p

    def to_text(self, width: int | None = None, thousands=()) -> str:
        """A plain-text table with its caption, numbers formatted by column type, a missing value as
        an em dash (with a note); at most ``width`` characters a line when given; the columns named
        in ``thousands`` with thousands separators (:mod:`crimescope.textable`)."""
        from .textable import MISSING_NOTE, render

        text, missing = render(self.frame(), width, thousands)
        lines = self.caption_lines() + ([f"note: {MISSING_NOTE}"] if missing else [])
        if width is not None:
            import textwrap

            lines = [w for ln in lines for w in (textwrap.wrap(ln, width, subsequent_indent="  ",
                                                               break_on_hyphens=False) or [""])]
        return text + "\n\n" + "\n".join(lines)  # a blank line between the table and its caption

    def render(self, fmt: str = "table") -> str:
        """The result as text: ``table``, ``csv``, ``json`` or ``geojson``."""
        if fmt == "csv":
            return self.to_csv()
        if fmt == "json":
            return self.to_json()
        if fmt == "table":
            return self.to_text()
        if fmt == "geojson":
            return json.dumps(self.to_geojson(), default=str)
        from .errors import ParameterError

        raise ParameterError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")

    def write(self, path: Any) -> Path:
        """Write by suffix: .csv, .json, .geojson, .parquet or .txt (the table); returns the path."""
        from .errors import ParameterError

        p = Path(path)
        suf = p.suffix.lower()
        if suf not in FILE_SUFFIXES:
            raise ParameterError(f"output must end in one of {', '.join(FILE_SUFFIXES)}, got {p.name!r}")
        if suf == ".geojson":
            doc = self.to_geojson()  # raises before the folder is made when there is no geometry
        p.parent.mkdir(parents=True, exist_ok=True)
        if suf == ".csv":
            self.to_csv(p)
        elif suf == ".parquet":
            self.to_parquet(p)
        elif suf == ".json":
            p.write_text(json.dumps(self.to_dict(), default=str), encoding="utf-8")
        elif suf == ".geojson":
            p.write_text(json.dumps(doc, default=str), encoding="utf-8")
        else:
            p.write_text(self.to_text() + "\n", encoding="utf-8")
        return p


def _n_units(units: Any) -> int:
    n = getattr(units, "n_units", None)
    return int(n if n is not None else units.n_cells)


def read_parquet_meta(path: Any) -> dict:
    """The provenance stored in a Parquet file written by :meth:`Result.to_parquet` ({} if none)."""
    import pyarrow.parquet as pq

    md = pq.read_schema(path).metadata or {}
    raw = md.get(PARQUET_META_KEY.encode())
    return json.loads(raw) if raw else {}
