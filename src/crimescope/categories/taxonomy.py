"""Offense categories: named sets of IUCR / FBI codes with a stated counting rule.

The taxonomy ships with the package (``taxonomy.yaml``); a user can add a YAML file
of the same shape (``load_taxonomy(extra=[path])``), whose categories override or
extend the built-in ones. Categories match on codes only, never on description text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Mapping

from ..errors import CategoryError

__all__ = ["Category", "Taxonomy", "load_taxonomy", "get_category", "UNITS"]

#: allowed counting units: what one counted row is
UNITS = ("victims", "incidents", "records")

_IUCR_RE = re.compile(r"^[0-9A-Z]{4}$")
_FBI_RE = re.compile(r"^[0-9]{2}[A-Z]?$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_KEYS = {"label", "unit", "iucr", "fbi", "include", "definition", "source", "primary_type"}


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


def _read_yaml(text: str, origin: str) -> dict:
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CategoryError(f"{origin}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("categories"), dict):
        raise CategoryError(f"{origin}: expected a mapping with a 'categories' mapping")
    return doc["categories"]


def _codes(value, origin: str, name: str, key: str, pattern: re.Pattern) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, int)):
        value = [value]
    out = []
    for v in value:
        code = str(v).strip().upper()
        if key == "iucr":
            code = code.zfill(4)
        if not pattern.match(code):
            raise CategoryError(f"{origin}: category {name!r}: bad {key} code {v!r}")
        out.append(code)
    return out


def _build(raw: dict[str, dict], origin_of: dict[str, str]) -> list[Category]:
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
            raise CategoryError(f"category include cycle: {' -> '.join(stack + (name,))}")
        if name not in raw:
            raise CategoryError(f"{origin_of[stack[-1]]}: category {stack[-1]!r} includes unknown {name!r}")
        spec = raw[name]
        origin = origin_of[name]
        iucr = set(_codes(spec.get("iucr"), origin, name, "iucr", _IUCR_RE))
        fbi = set(_codes(spec.get("fbi"), origin, name, "fbi", _FBI_RE))
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
        ))
    return cats


@lru_cache(maxsize=1)
def _builtin_text() -> str:
    return resources.files("crimescope.categories").joinpath("taxonomy.yaml").read_text("utf-8")


@lru_cache(maxsize=1)
def _builtin_raw() -> dict:
    return _read_yaml(_builtin_text(), "taxonomy.yaml (built-in)")


@lru_cache(maxsize=1)
def _builtin_taxonomy() -> Taxonomy:
    raw = dict(_builtin_raw())
    return Taxonomy(_build(raw, {k: "taxonomy.yaml (built-in)" for k in raw}),
                    ["crimescope/categories/taxonomy.yaml"])


def load_taxonomy(extra: Iterable[str | Path] = ()) -> Taxonomy:
    """The built-in taxonomy, plus the categories of each user file in ``extra``.

    A user category with the name of a built-in one replaces it. The built-in
    taxonomy is parsed once per process (it is read-only).
    """
    extra = list(extra or ())
    if not extra:
        return _builtin_taxonomy()
    raw = dict(_builtin_raw())
    origin_of = {k: "taxonomy.yaml (built-in)" for k in raw}
    origins = ["crimescope/categories/taxonomy.yaml"]
    for path in extra:
        p = Path(path)
        try:
            text = p.read_text("utf-8")
        except OSError as exc:
            raise CategoryError(f"cannot read category file {p}: {exc}") from exc
        for k, v in _read_yaml(text, str(p)).items():
            raw[k] = v
            origin_of[k] = str(p)
        origins.append(str(p))
    return Taxonomy(_build(raw, origin_of), origins)


def get_category(category: "str | Category", taxonomy: Taxonomy | None = None) -> Category:
    """Resolve a name (or pass a Category through)."""
    if isinstance(category, Category):
        return category
    return (taxonomy or load_taxonomy())[str(category)]
