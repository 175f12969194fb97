"""City profiles: everything crimescope knows about one city's published data, declared once.

A profile is a small YAML file (``chicago.yaml``, ``nyc_shootings.yaml`` next to this
module, or any file given to :func:`load_profile`) with these keys:

``key``
    The store's source key (``incidents.source``); ``--source`` and ``?source=`` take it.
``name``, ``publisher``, ``citation``
    The city, who publishes the data, and the line every figure's ``source`` carries.
``timezone``
    IANA name of the local wall time of ``occurred_local``.
``crs``
    CRS of the stored ``x``/``y``; its linear unit is read from pyproj
    (:attr:`CityProfile.linear_unit`), never assumed.
``code_columns``
    The store columns its categories match on (``iucr``, ``fbi_code``): a category of
    its taxonomy that uses another column is refused.
``taxonomy``
    Its category file: ``package:<package>/<file>`` or a path (relative to the profile file).
``importer``
    ``module:function`` called as ``function(store, paths)``.
``area_kinds``
    ``{kind: {label, column, boundary, code_property, population, names, name_property,
    names_source}}``: the store column holding the unit code, the reference GeoJSON (a path
    under the reference root, see :mod:`crimescope.reference`; absent = units counted by
    code only, no map), the feature property holding the code, and where its population
    comes from; the units' names, if they have any: a table ``names: {code: name}`` (Chicago's
    police districts: ``11: Harrison``), or ``name_property``, the boundary file's property
    holding them (community areas), and ``names_source``, where the table comes from.
``outline``
    The area kind whose union is the city outline (grids and hexagons cover it), or
    ``extent: [x0, y0, x1, y1]`` (in ``crs`` units) when no boundary is shipped.
``first_date``, ``reference``
    First date the source can hold; further reference files it needs.
``default_categories``
    The categories the Overview and CompStat show; ``default_category`` is the category
    of a view that names none (default: the first of them).

Profiles are registered by key (:func:`register_profile`); the two shipped ones are
registered on first use.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ..errors import ParameterError, SetupError

__all__ = ["AreaKindSpec", "CityProfile", "load_profile", "register_profile", "get_profile", "profiles",
           "DEFAULT_SOURCE", "BUILTIN_PROFILES"]

#: the profile a bare Store means (the store was Chicago-only before profiles existed)
DEFAULT_SOURCE = "chicago"
#: the shipped profile files, in the order they are listed
BUILTIN_PROFILES = ("chicago.yaml", "nyc_shootings.yaml", "gva.yaml")

_KEYS = {"key", "name", "publisher", "citation", "timezone", "crs", "code_columns", "taxonomy", "importer",
         "area_kinds", "outline", "extent", "first_date", "reference", "default_categories",
         "default_category"}
_KIND_KEYS = {"label", "column", "boundary", "code_property", "population", "names", "name_property",
              "names_source"}
#: store columns a category may match on
CODE_COLUMNS = ("iucr", "fbi_code")
#: store columns that may hold an area code
AREA_COLUMNS = ("beat", "district", "ward", "community_area")


@dataclass(frozen=True)
class AreaKindSpec:
    """One kind of area unit of a city (see the module docstring)."""

    name: str
    label: str
    column: str
    boundary: str | None = None
    code_property: str | None = None
    population: str | None = None
    #: the units' names by code, as the profile declares them (empty: none declared)
    names: Mapping[str, str] = field(default_factory=dict)
    #: the boundary file's property holding each unit's name (None: no names there)
    name_property: str | None = None
    #: where the names come from, for the provenance of what shows them
    names_source: str | None = None

    @property
    def has_boundary(self) -> bool:
        return self.boundary is not None


@dataclass(frozen=True)
class CityProfile:
    """A registered city: see the module docstring for each attribute."""

    key: str
    name: str
    publisher: str
    citation: str
    timezone: str
    crs: str
    code_columns: tuple[str, ...]
    taxonomy: str
    importer: str
    area_kinds: Mapping[str, AreaKindSpec] = field(default_factory=dict)
    outline: str | None = None
    extent: tuple[float, float, float, float] | None = None
    first_date: dt.date | None = None
    reference: tuple[str, ...] = ()
    default_categories: tuple[str, ...] = ()
    default_category: str | None = None
    origin: str = ""

    # -- units of length --------------------------------------------------------
    @property
    def linear_unit(self) -> str:
        """The CRS's axis unit as pyproj names it (``US survey foot``, ``metre``)."""
        return _unit_of(self.crs)[0]

    @property
    def unit_abbrev(self) -> str:
        """``ft`` for feet, ``m`` for metres, else the unit's name."""
        return _unit_of(self.crs)[1]

    @property
    def metres_per_unit(self) -> float:
        return _unit_of(self.crs)[2]

    def length_text(self, value: float) -> str:
        """``500 ft`` / ``150 m``: a length in the CRS's unit."""
        return f"{value:g} {self.unit_abbrev}"

    # -- declared things ----------------------------------------------------------
    def area_kind(self, kind: str) -> AreaKindSpec:
        try:
            return self.area_kinds[kind]
        except KeyError:
            raise ParameterError(f"{self.name} ({self.key}) has no area kind {kind!r}; its kinds: "
                                 f"{', '.join(self.area_kinds) or 'none'}") from None

    def area_names(self, kind: str) -> dict[str, str]:
        """The names the profile declares for the units of ``kind`` (``{"11": "Harrison"}``), by code
        without leading zeros; empty when it declares none (names read from a boundary file's
        ``name_property`` come with the map geometry, :mod:`crimescope.web.geometry`)."""
        return dict(self.area_kind(kind).names) if kind in self.area_kinds else {}

    def mapped_kinds(self) -> list[str]:
        """Area kinds with a boundary (they can be drawn and joined spatially)."""
        return [k for k, a in self.area_kinds.items() if a.has_boundary]

    def reference_files(self) -> list[str]:
        """Every reference file this profile needs (relative to the reference root)."""
        out = [a.boundary for a in self.area_kinds.values() if a.boundary]
        return out + [r for r in self.reference if r not in out]

    def importer_function(self) -> Callable[..., Any]:
        """The importer, as ``f(store, paths, on_file=None)`` returning per path a Batch or IngestError.

        An importer that takes a ``profile`` keyword (a generic one, like
        ``crimescope.sources.canonical``) is given this profile."""
        import inspect

        mod, _, fn = self.importer.partition(":")
        try:
            f = getattr(importlib.import_module(mod), fn)
        except (ImportError, AttributeError) as exc:
            raise SetupError(f"profile {self.key}: importer {self.importer!r} cannot be loaded: {exc}") from exc
        if "profile" in inspect.signature(f).parameters:
            return functools.partial(f, profile=self)
        return f

    def taxonomy_text(self) -> tuple[str, str]:
        """(YAML text, origin label) of the profile's category file."""
        spec = self.taxonomy
        if spec.startswith("package:"):
            from importlib import resources

            pkg, _, name = spec[len("package:"):].partition("/")
            try:
                return resources.files(pkg).joinpath(name).read_text("utf-8"), f"{pkg.replace('.', '/')}/{name}"
            except (ModuleNotFoundError, FileNotFoundError) as exc:
                raise SetupError(f"profile {self.key}: taxonomy {spec!r} not found") from exc
        p = Path(spec)
        if not p.is_absolute() and self.origin:
            p = Path(self.origin).parent / p
        try:
            return p.read_text("utf-8"), str(p)
        except OSError as exc:
            raise SetupError(f"profile {self.key}: taxonomy file {p} cannot be read: {exc}") from exc

    def area_note(self) -> str | None:
        """What a share of area means for this city (None when its outline is shipped)."""
        if self.outline is not None:
            return None
        return (f"{self.name} has no city outline shipped; grids cover the box {list(self.extent)} "
                f"({self.crs}, {self.linear_unit}), so shares of area include land and water outside the city")

    def dates_text(self) -> str:
        return f"inclusive local ({self.timezone}) dates of occurrence"

    def as_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "publisher": self.publisher, "citation": self.citation,
                "timezone": self.timezone, "crs": self.crs, "linear_unit": self.linear_unit,
                "code_columns": list(self.code_columns), "area_kinds": list(self.area_kinds),
                "mapped_kinds": self.mapped_kinds()}


@functools.lru_cache(maxsize=32)
def _unit_of(crs: str) -> tuple[str, str, float]:
    import pyproj

    try:
        c = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise ParameterError(f"unknown CRS {crs!r}: {exc}") from exc
    if not c.is_projected:
        raise ParameterError(f"CRS {crs} is not projected: lengths and areas need a projected CRS")
    ax = c.axis_info[0]
    name = ax.unit_name
    low = name.lower()
    abbrev = "ft" if "foot" in low or "feet" in low else ("m" if low in ("metre", "meter") else name)
    return name, abbrev, float(ax.unit_conversion_factor)


def _code_text(code) -> str:
    """A unit code as the names table keys it: ``11`` and ``"11"`` are the same district, ``"011"`` too."""
    text = str(code).strip()
    return str(int(text)) if text.isdigit() else text


def _fail(origin: str, msg: str):
    raise SetupError(f"city profile {origin}: {msg}")


def _read_doc(text: str, origin: str) -> dict:
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        _fail(origin, f"not valid YAML: {' '.join(str(exc).split())}")
    if not isinstance(doc, dict):
        _fail(origin, "expected a mapping")
    return doc


def profile_from_dict(doc: Mapping[str, Any], origin: str = "<dict>", *, check_crs: bool = True) -> CityProfile:
    """A :class:`CityProfile` from the mapping of a profile file, every key checked (the CRS with
    pyproj unless ``check_crs`` is false: the shipped profiles, whose CRSs a test checks, so that a
    command that never measures a length does not import pyproj)."""
    unknown = set(doc) - _KEYS
    if unknown:
        _fail(origin, f"unknown keys {sorted(unknown)}")
    for k in ("key", "name", "publisher", "citation", "timezone", "crs", "taxonomy", "importer"):
        if not doc.get(k) or not isinstance(doc.get(k), str):
            _fail(origin, f"{k!r} must be a non-empty text")
    key = doc["key"]
    if not key.replace("_", "").isalnum() or not key[0].isalpha() or key != key.lower():
        _fail(origin, f"key {key!r} must be lower_case_with_underscores")
    try:
        import zoneinfo

        zoneinfo.ZoneInfo(doc["timezone"])
    except Exception:  # noqa: BLE001 - any failure means the name is not usable
        _fail(origin, f"unknown time zone {doc['timezone']!r}")
    if check_crs:
        try:
            _unit_of(doc["crs"])
        except ParameterError as exc:
            _fail(origin, str(exc))
    cols = tuple(doc.get("code_columns") or ())
    if not cols or any(c not in CODE_COLUMNS for c in cols):
        _fail(origin, f"code_columns must be a non-empty list of {', '.join(CODE_COLUMNS)}")
    kinds: dict[str, AreaKindSpec] = {}
    for name, spec in (doc.get("area_kinds") or {}).items():
        spec = spec or {}
        if not isinstance(spec, dict) or set(spec) - _KIND_KEYS:
            _fail(origin, f"area kind {name!r}: expected a mapping of {sorted(_KIND_KEYS)}")
        col = spec.get("column", name)
        if col not in AREA_COLUMNS:
            _fail(origin, f"area kind {name!r}: column must be one of {', '.join(AREA_COLUMNS)}")
        if spec.get("boundary") and not spec.get("code_property"):
            _fail(origin, f"area kind {name!r}: a boundary needs its code_property")
        if spec.get("name_property") and not spec.get("boundary"):
            _fail(origin, f"area kind {name!r}: a name_property needs a boundary file to read it from")
        names = spec.get("names") or {}
        if not isinstance(names, dict) or not all(isinstance(v, str) and v.strip() for v in names.values()):
            _fail(origin, f"area kind {name!r}: names must be a mapping of unit code to a non-empty name")
        kinds[str(name)] = AreaKindSpec(str(name), str(spec.get("label", name)), col, spec.get("boundary"),
                                        spec.get("code_property"), spec.get("population"),
                                        names={_code_text(k): str(v).strip() for k, v in names.items()},
                                        name_property=spec.get("name_property"),
                                        names_source=spec.get("names_source"))
    outline = doc.get("outline")
    if outline is not None and (outline not in kinds or not kinds[outline].has_boundary):
        _fail(origin, f"outline {outline!r} is not an area kind with a boundary")
    extent = doc.get("extent")
    if extent is not None:
        try:
            extent = tuple(float(v) for v in extent)
        except (TypeError, ValueError):
            _fail(origin, "extent must be [x0, y0, x1, y1]")
        if len(extent) != 4 or not (extent[0] < extent[2] and extent[1] < extent[3]):
            _fail(origin, "extent must be [x0, y0, x1, y1] with x0 < x1 and y0 < y1")
    if outline is None and extent is None:
        _fail(origin, "give an outline (an area kind with a boundary) or an extent")
    first = doc.get("first_date")
    if first is not None and not isinstance(first, dt.date):
        try:
            first = dt.date.fromisoformat(str(first))
        except ValueError:
            _fail(origin, f"first_date {first!r} is not a date")
    return CityProfile(key=key, name=doc["name"], publisher=doc["publisher"], citation=doc["citation"],
                       timezone=doc["timezone"], crs=doc["crs"], code_columns=cols, taxonomy=doc["taxonomy"],
                       importer=doc["importer"], area_kinds=kinds, outline=outline, extent=extent,
                       first_date=first, reference=tuple(doc.get("reference") or ()),
                       default_categories=tuple(str(c) for c in doc.get("default_categories") or ()),
                       default_category=doc.get("default_category") or
                       (str(doc["default_categories"][0]) if doc.get("default_categories") else None),
                       origin=origin)


def load_profile(path: str | Path, *, register: bool = True) -> CityProfile:
    """Read a profile YAML file (and register it unless ``register=False``)."""
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except OSError as exc:
        raise SetupError(f"city profile {p} cannot be read: {exc}") from exc
    prof = profile_from_dict(_read_doc(text, str(p)), str(p))
    if register:
        register_profile(prof)
    return prof


_REGISTRY: dict[str, CityProfile] = {}
_LOCK = threading.Lock()
_LOADED = False


def _ensure_builtin() -> None:
    global _LOADED
    if _LOADED:
        return
    with _LOCK:
        if _LOADED:
            return
        here = Path(__file__).resolve().parent
        for name in BUILTIN_PROFILES:
            prof = profile_from_dict(_read_doc((here / name).read_text("utf-8"), name), str(here / name),
                                     check_crs=False)
            _REGISTRY.setdefault(prof.key, prof)
        from .. import settings

        # the user's own cities: profile files named by the `profiles` setting (CRIMESCOPE_PROFILES)
        for f in [x for x in str(settings.get("profiles") or "").split(os.pathsep) if x.strip()]:
            p = Path(f.strip())
            try:
                text = p.read_text("utf-8")
            except OSError as exc:
                raise SetupError(f"city profile {p} (CRIMESCOPE_PROFILES) cannot be read: {exc}") from exc
            prof = profile_from_dict(_read_doc(text, str(p)), str(p))
            if prof.key in _REGISTRY and _REGISTRY[prof.key].origin != prof.origin:
                raise SetupError(f"city profile {p}: key {prof.key!r} is already a shipped city's")
            _REGISTRY[prof.key] = prof
        _LOADED = True


def register_profile(profile: CityProfile, *, replace: bool = False) -> CityProfile:
    """Make ``profile`` selectable by its key (``--source KEY``). A key already registered by
    another profile is refused unless ``replace=True``."""
    _ensure_builtin()
    with _LOCK:
        old = _REGISTRY.get(profile.key)
        if old is not None and old != profile and not replace:
            raise ParameterError(f"a city profile with key {profile.key!r} is already registered ({old.origin})")
        _REGISTRY[profile.key] = profile
    return profile


def profiles() -> dict[str, CityProfile]:
    """The registered profiles, by key (the shipped ones first)."""
    _ensure_builtin()
    return dict(_REGISTRY)


def get_profile(key: "str | CityProfile | None" = None) -> CityProfile:
    """The profile of ``key`` (None: Chicago); ParameterError naming the known keys otherwise."""
    if isinstance(key, CityProfile):
        return key
    _ensure_builtin()
    k = DEFAULT_SOURCE if key is None else str(key).strip()
    try:
        return _REGISTRY[k]
    except KeyError:
        raise ParameterError(f"source {k!r} is not a registered city; choose from "
                             f"{', '.join(_REGISTRY)}") from None
