"""Reference data shipped with crimescope: boundaries, populations, code lists.

The files are copies of the public files described in ``../shared/data/README.md``,
unchanged (boundaries are xz-compressed, ``*.geojson.xz``, to keep the package small:
about 1.8 MB in all). They are laid out as the shared data folder is
(``chicago/boundaries/community_areas.geojson.xz``, ``chicago/population/...``), so a
folder of the same layout (``CRIMESCOPE_SHARED_DATA`` or an explicit ``data_dir``) can
stand in for them. Nothing here reads ``../shared`` at run time: a server or a brief
on a machine that holds only a store draws every map.

Which files a city needs is declared by its profile (:mod:`crimescope.datasets`);
:func:`require_reference` checks them at start-up and raises
:class:`~crimescope.errors.SetupError` naming every missing one.
"""

from __future__ import annotations

import lzma
from pathlib import Path

__all__ = ["REFERENCE_ROOT", "data_root", "find", "exists", "read_text", "open_text", "missing_reference",
           "require_reference", "iucr_codes"]

#: the folder of the shipped reference files (same layout as the shared data folder)
REFERENCE_ROOT = Path(__file__).resolve().parent

#: compressed forms a reference file may be shipped in, tried in order after the plain name
_SUFFIXES = ("", ".xz")


def data_root(data_dir: str | Path | None = None) -> Path:
    """Where reference files are read from: ``data_dir`` when given, else the
    ``shared_data`` setting when set (``CRIMESCOPE_SHARED_DATA``), else the shipped files."""
    if data_dir is not None:
        return Path(data_dir)
    from .. import settings

    explicit = settings.get("shared_data")
    return Path(explicit) if explicit else REFERENCE_ROOT


def find(path: str | Path) -> Path | None:
    """``path`` itself, or its compressed twin (``path.xz``), whichever exists; None if neither."""
    p = Path(path)
    for suf in _SUFFIXES:
        q = p.with_name(p.name + suf) if suf else p
        if q.is_file():
            return q
    return None


def exists(path: str | Path) -> bool:
    return find(path) is not None


def read_text(path: str | Path) -> str:
    """The text of a reference file, plain or ``.xz`` (FileNotFoundError when neither exists)."""
    q = find(path)
    if q is None:
        raise FileNotFoundError(str(path))
    if q.suffix == ".xz":
        return lzma.decompress(q.read_bytes()).decode("utf-8")
    return q.read_text(encoding="utf-8")


def open_text(path: str | Path):
    """A text file object over a reference file, plain or ``.xz``."""
    q = find(path)
    if q is None:
        raise FileNotFoundError(str(path))
    if q.suffix == ".xz":
        return lzma.open(q, "rt", encoding="utf-8")
    return open(q, encoding="utf-8")


def missing_reference(profile=None, data_dir: str | Path | None = None) -> list[str]:
    """The reference files ``profile`` declares (default: every registered profile) that are absent."""
    from ..datasets import get_profile, profiles

    profs = [get_profile(profile) if isinstance(profile, str) else profile] if profile is not None \
        else list(profiles().values())
    root = data_root(data_dir)
    out = []
    for p in profs:
        for rel in p.reference_files():
            if not exists(root / rel):
                out.append(f"{p.key}: {root / rel}")
    return out


def require_reference(profile=None, data_dir: str | Path | None = None) -> None:
    """Raise :class:`~crimescope.errors.SetupError` when a declared reference file is missing."""
    missing = missing_reference(profile, data_dir)
    if missing:
        from ..errors import SetupError

        raise SetupError("reference data missing (reinstall crimescope, or point CRIMESCOPE_SHARED_DATA "
                         "at a folder of the shared layout): " + "; ".join(missing))


def iucr_codes(data_dir: str | Path | None = None):
    """The CPD's IUCR code list: DataFrame ``iucr`` (4 characters, zero-padded), ``primary``,
    ``secondary``, ``index_code`` (``I`` index crime, ``N`` not)."""
    import pandas as pd

    with open_text(data_root(data_dir) / "chicago" / "other" / "iucr_codes.csv") as fh:
        df = pd.read_csv(fh, dtype=str, keep_default_na=False)
    df.columns = ["iucr", "primary", "secondary", "index_code"]
    df["iucr"] = df["iucr"].str.strip().str.upper().str.zfill(4)
    return df
