"""Offense categories: named sets of IUCR / FBI codes with a stated counting rule.

The taxonomy ships with the package (``taxonomy.yaml``); a user can add a YAML file
of the same shape (``load_taxonomy(extra=[path])``), whose categories extend the
built-in ones. A user category may not take the name of a built-in one (a figure
labelled ``murder`` always means the CPD's murder codes) unless ``override=True`` is
asked for in Python; a well-formed code that is not known (see :func:`known_codes`) is
counted as given, with a :class:`~crimescope.errors.CategoryWarning` (a typo, or a code the
CPD added later). Each user category remembers the file that defined it
(``Category.origin``), so every figure can name it. Categories match on codes only,
never on description text.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Mapping

from ..errors import CategoryError, CategoryWarning

__all__ = ["Category", "Taxonomy", "load_taxonomy", "get_category", "known_codes", "UNITS",
           "FBI_CODES", "BUILTIN_ORIGIN", "taxonomy_for"]

#: allowed counting units: what one counted row is
UNITS = ("victims", "incidents", "records")

#: the FBI codes of the portal's ``fbi_code`` column (CPD's list of FBI codes; every value
#: found in the 2012-2017 shared extracts, and only those)
FBI_CODES = frozenset({"01A", "01B", "02", "03", "04A", "04B", "05", "06", "07", "08A", "08B", "09",
                       "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "22", "24", "26"})

#: how the built-in taxonomy is named in error messages and ``Taxonomy.origins``
BUILTIN_ORIGIN = "crimescope/categories/taxonomy.yaml"
_BUILTIN_LABEL = "taxonomy.yaml (built-in)"

_IUCR_RE = re.compile(r"^[0-9A-Z]{4}$")
_FBI_RE = re.compile(r"^[0-9]{2}[A-Z]?$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_KEYS = {"label", "unit", "iucr", "fbi", "include", "definition", "source", "primary_type", "sources"}


@dataclass(frozen=True)
class Category:
    """A named offense category.

    Attributes
    ----------
    name : str
        Identifier used on the command line (``homicide``, ``shooting``...).
    label : str
        Short human-readable name.
    unit : str
        What one counted row is: ``victims`` (HOMICIDE rows), ``incidents`` or
        ``records`` (a mix, e.g. homicide victims + shooting incidents).
    iucr : frozenset[str]
        IUCR codes (4 characters, zero-padded) after resolving ``include``.
    fbi : frozenset[str]
        FBI codes after resolving ``include``.
    definition, source : str
        The rule in words and where it comes from.
    include : tuple[str, ...]
        Categories merged into this one (as declared).
    primary_type : str or None
        Informational: the primary type these codes belong to.
    origin : str or None
        The user category file that defined this category (the path as given), or
        None for a category of the built-in taxonomy.
    """

    name: str
    label: str
    unit: str
    iucr: frozenset[str] = field(default_factory=frozenset)
    fbi: frozenset[str] = field(default_factory=frozenset)
    definition: str = ""
    source: str = ""
    include: tuple[str, ...] = ()
    primary_type: str | None = None
    origin: str | None = None
    #: the store sources whose records this category counts (empty: any source)
    sources: tuple[str, ...] = ()

    @property
    def rule(self) -> str:
        """The matching rule as one line: ``iucr in (...) or fbi_code in (...)``."""
        parts = []
        if self.iucr:
            parts.append("iucr in (" + ", ".join(sorted(self.iucr)) + ")")
        if self.fbi:
            parts.append("fbi_code in (" + ", ".join(sorted(self.fbi)) + ")")
        return " or ".join(parts)

    def as_dict(self) -> dict:
        return {
            "name": self.name, "label": self.label, "unit": self.unit,
            "rule": self.rule, "iucr": sorted(self.iucr), "fbi": sorted(self.fbi),
            "include": list(self.include), "definition": self.definition, "source": self.source,
        }


class Taxonomy(Mapping[str, Category]):
    """An ordered, read-only mapping name -> :class:`Category`."""

    def __init__(self, categories: Iterable[Category], origins: Iterable[str] = ()):
        self._cats = {c.name: c for c in categories}
        self.origins = tuple(origins)

    def __getitem__(self, name: str) -> Category:
        try:
            return self._cats[name]
        except KeyError:
            close = [n for n in self._cats if name.lower() in n or n in name.lower()]
            hint = f" (did you mean {', '.join(close[:5])}?)" if close else ""
            raise CategoryError(
                f"unknown category {name!r}{hint}; `crimescope categories` lists them"
            ) from None

    def __iter__(self):
        return iter(self._cats)

    def __len__(self) -> int:
        return len(self._cats)


def _yaml_problem(exc) -> str:
    """A YAML parser error as one line: the problem and where it is."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    return " ".join(str(exc).split())


@lru_cache(maxsize=1)
def _loader():
    """A safe YAML loader that reads ``0450`` as the text ``"0450"``, not as an octal number.

    IUCR codes are zero-padded: unquoted, YAML 1.1 reads ``0110`` as octal 72 and
    ``0450`` as octal 296, so the code written would silently become another one.
    Numbers with a leading zero therefore stay strings; other integers are integers.
    """
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    int_tag = "tag:yaml.org,2002:int"
    Loader.yaml_implicit_resolvers = {
        k: [(tag, rx) for tag, rx in v if tag != int_tag]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver(int_tag, re.compile(r"^(?:[-+]?(?:0|[1-9][0-9_]*))$"),
                                 list("-+0123456789"))
    return Loader


def _read_yaml(text: str, origin: str) -> dict:
    import yaml

    try:
        doc = yaml.load(text, Loader=_loader())  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        raise CategoryError(f"{origin}: not valid YAML: {_yaml_problem(exc)}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("categories"), dict):
        raise CategoryError(f"{origin}: expected a mapping with a 'categories' mapping")
    return doc["categories"]


def _codes(value, origin: str, name: str, key: str, pattern: re.Pattern,
           known: frozenset[str] | None = None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, int)):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise CategoryError(f"{origin}: category {name!r}: {key} must be a list of codes")
    out = []
    for v in value:
        code = str(v).strip().upper()
        if key == "iucr":
            code = code.zfill(4)
        if not pattern.match(code):
            raise CategoryError(f"{origin}: category {name!r}: bad {key} code {v!r}")
        if known is not None and code not in known:
            # not refused: the CPD adds codes over time and a synced store can hold them
            what = ("not in the CPD IUCR code list nor among the codes seen in the 2012-2017 portal data"
                    if key == "iucr" else "not one of the portal's FBI codes")
            warnings.warn(CategoryWarning(
                f"{origin}: category {name!r}: unknown {key} code {code!r} ({what}); counted as given - "
                "check it is not a typo (`crimescope categories --format csv` lists the codes in use)"),
                stacklevel=2)
        out.append(code)
    return out


def known_codes() -> dict[str, frozenset[str]]:
    """The codes a category may use: ``{"iucr": ..., "fbi": ...}``.

    IUCR: every code of the built-in taxonomy, whose primary-type categories cover the
    CPD IUCR code list plus the codes seen in the 2012-2017 portal data; FBI:
    :data:`FBI_CODES`.
    """
    iucr = frozenset().union(*(c.iucr for c in _builtin_taxonomy().values()))
    return {"iucr": iucr, "fbi": FBI_CODES}


def _build(raw: dict[str, dict], origin_of: dict[str, str],
           known: dict[str, frozenset[str]] | None = None, base_label: str = _BUILTIN_LABEL) -> list[Category]:
    """Categories of ``raw``; codes of categories not from the base file (``base_label``) must be in ``known``."""
    for name, spec in raw.items():
        origin = origin_of[name]
        if not _NAME_RE.match(str(name)):
            raise CategoryError(f"{origin}: bad category name {name!r} (use lower_case_with_underscores)")
        if not isinstance(spec, dict):
            raise CategoryError(f"{origin}: category {name!r} must be a mapping")
        unknown = set(spec) - _KEYS
        if unknown:
            raise CategoryError(f"{origin}: category {name!r}: unknown keys {sorted(unknown)}")
        if spec.get("unit", "incidents") not in UNITS:
            raise CategoryError(f"{origin}: category {name!r}: unit must be one of {UNITS}")
        if not (spec.get("iucr") or spec.get("fbi") or spec.get("include")):
            raise CategoryError(f"{origin}: category {name!r} has no iucr, fbi or include")

    resolved: dict[str, tuple[set, set]] = {}

    def resolve(name: str, stack: tuple[str, ...]) -> tuple[set, set]:
        if name in resolved:
            return resolved[name]
        if name in stack:
            raise CategoryError(f"{origin_of[name]}: category include cycle: {' -> '.join(stack + (name,))}")
        if name not in raw:
            raise CategoryError(f"{origin_of[stack[-1]]}: category {stack[-1]!r} includes unknown {name!r}")
        spec = raw[name]
        origin = origin_of[name]
        check = known if (known is not None and origin != base_label) else {}
        iucr = set(_codes(spec.get("iucr"), origin, name, "iucr", _IUCR_RE, check.get("iucr")))
        fbi = set(_codes(spec.get("fbi"), origin, name, "fbi", _FBI_RE, check.get("fbi")))
        for inc in spec.get("include") or []:
            i2, f2 = resolve(str(inc), stack + (name,))
            iucr |= i2
            fbi |= f2
        resolved[name] = (iucr, fbi)
        return resolved[name]

    cats = []
    for name, spec in raw.items():
        iucr, fbi = resolve(name, ())
        cats.append(Category(
            name=name,
            label=str(spec.get("label") or name),
            unit=str(spec.get("unit", "incidents")),
            iucr=frozenset(iucr), fbi=frozenset(fbi),
            definition=" ".join(str(spec.get("definition", "")).split()),
            source=str(spec.get("source", "")),
            include=tuple(str(i) for i in spec.get("include") or ()),
            primary_type=spec.get("primary_type"),
            origin=None if origin_of[name] == base_label else origin_of[name],
            sources=tuple(str(x) for x in spec.get("sources") or ()),
        ))
    return cats


@lru_cache(maxsize=1)
def _builtin_text() -> str:
    return resources.files("crimescope.categories").joinpath("taxonomy.yaml").read_text("utf-8")


@lru_cache(maxsize=1)
def _builtin_raw() -> dict:
    return _read_yaml(_builtin_text(), _BUILTIN_LABEL)


@lru_cache(maxsize=1)
def _builtin_taxonomy() -> Taxonomy:
    raw = dict(_builtin_raw())
    return Taxonomy(_build(raw, {k: _BUILTIN_LABEL for k in raw}), [BUILTIN_ORIGIN])


def _read_user_file(p: Path) -> str:
    try:
        return p.read_text("utf-8")
    except FileNotFoundError:
        raise CategoryError(f"category file {p} does not exist") from None
    except IsADirectoryError:
        raise CategoryError(f"category file {p} is a directory, not a YAML file") from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CategoryError(f"cannot read category file {p}: {msg}") from exc


def _with_user_files(base_raw: dict, base_label: str, base_origin: str, extra, override: bool, clash: str):
    """``(raw, origin_of, origins)``: the base categories with the user files' added, in order.

    A name defined in two user files is refused; a name of a base category is refused
    (``clash`` says why) unless ``override``.
    """
    raw = dict(base_raw)
    origin_of = {k: base_label for k in raw}
    origins = [base_origin]
    for path in extra:
        p = Path(path)
        for k, v in _read_yaml(_read_user_file(p), str(p)).items():
            if origin_of.get(k, base_label) != base_label:
                raise CategoryError(f"{p}: category {k!r} is already defined in {origin_of[k]}")
            if k in base_raw and not override:
                raise CategoryError(f"{p}: category {k!r} {clash}")
            raw[k] = v
            origin_of[k] = str(p)
        origins.append(str(p))
    return raw, origin_of, origins


def load_taxonomy(extra: Iterable[str | Path] = (), *, override: bool = False) -> Taxonomy:
    """The built-in taxonomy, plus the categories of each user file in ``extra``.

    Every problem is a :class:`~crimescope.errors.CategoryError` with a one-line message
    naming the file: a file that cannot be read, invalid YAML or shape, a name used twice,
    a badly formed code, an include cycle; a well-formed code not in :func:`known_codes`
    gives a :class:`~crimescope.errors.CategoryWarning` and is kept. A user category may
    not take the name of a built-in one unless ``override=True``, in which case it
    replaces it. Each user category's ``origin`` is the path of its file, as given. The
    built-in taxonomy is parsed once per process (it is read-only).
    """
    extra = list(extra or ())
    if not extra:
        return _builtin_taxonomy()
    raw, origin_of, origins = _with_user_files(
        _builtin_raw(), _BUILTIN_LABEL, BUILTIN_ORIGIN, extra, override,
        "has the name of a built-in category; give yours another name (`crimescope categories` lists the "
        "built-in ones)")
    return Taxonomy(_build(raw, origin_of, known_codes()), origins)


def get_category(category: "str | Category", taxonomy: Taxonomy | None = None) -> Category:
    """Resolve a name (or pass a Category through)."""
    if isinstance(category, Category):
        return category
    return (taxonomy or load_taxonomy())[str(category)]


# ------------------------------------------------------------------ per city profile
_COLUMN_KEY = {"iucr": "iucr", "fbi_code": "fbi"}


def _check_columns(cats: Iterable[Category], columns: tuple[str, ...], what: str) -> None:
    """Refuse a category that matches on a code column the city's data does not have."""
    allowed = {_COLUMN_KEY[c] for c in columns if c in _COLUMN_KEY}
    for c in cats:
        used = {k for k in ("iucr", "fbi") if getattr(c, k)}
        bad = used - allowed
        if bad:
            cols = ", ".join("iucr" if b == "iucr" else "fbi_code" for b in sorted(bad))
            raise CategoryError(f"{c.origin or what}: category {c.name!r} matches on {cols}, which this city's "
                                f"data does not have (its code columns: {', '.join(columns)})")


@lru_cache(maxsize=16)
def _profile_base(key: str, text: str, label: str) -> Taxonomy:
    raw = _read_yaml(text, label)
    return Taxonomy(_build(raw, {k: label for k in raw}, base_label=label), [label])


def taxonomy_for(profile, extra: Iterable[str | Path] = (), *, override: bool = False) -> Taxonomy:
    """The taxonomy of a city profile, plus the user category files in ``extra``.

    Chicago's is the built-in taxonomy (:func:`load_taxonomy`). Another city's is its
    profile's category file; a user file then may use the codes of that file only
    (others warn, as for Chicago), and no category may match on a code column the
    profile does not declare (``code_columns``).
    """
    extra = list(extra or ())
    if not extra and not override:
        key = (profile.key, profile.taxonomy, profile.origin, tuple(profile.code_columns))
        hit = _FOR_PROFILE.get(key)
        if hit is None:
            hit = _FOR_PROFILE[key] = _taxonomy_for(profile, [], override=False)
        return hit
    return _taxonomy_for(profile, extra, override=override)


#: a profile's own taxonomy (no user files), parsed once per process: it is read-only
_FOR_PROFILE: dict = {}


def _taxonomy_for(profile, extra: list, *, override: bool) -> Taxonomy:
    text, label = profile.taxonomy_text()
    if label == BUILTIN_ORIGIN:
        tax = load_taxonomy(extra, override=override)
        _check_columns(tax.values(), tuple(profile.code_columns), label)
        return tax
    base = _profile_base(profile.key, text, label)
    _check_columns(base.values(), tuple(profile.code_columns), label)
    if not extra:
        return base
    raw, origin_of, origins = _with_user_files(
        _read_yaml(text, label), label, label, extra, override,
        f"has the name of a category of {profile.name}; give yours another name (`crimescope categories` "
        "lists them)")
    known = {"iucr": frozenset().union(*(c.iucr for c in base.values())),
             "fbi": frozenset().union(*(c.fbi for c in base.values()))}
    tax = Taxonomy(_build(raw, origin_of, known, base_label=label), origins)
    _check_columns(tax.values(), tuple(profile.code_columns), label)
    return tax
