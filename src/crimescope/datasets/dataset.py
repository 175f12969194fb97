"""The Dataset: a store plus the city profile its figures are read for.

Every analysis takes a Dataset (or, as before profiles existed, a Store, which means
the Chicago profile): ``ds = as_dataset(store_or_dataset, source)`` at the top of the
function, then ``ds.store``, ``ds.key`` (the source key), ``ds.profile`` and
``ds.taxonomy()``. A Dataset also has the ``con``/``ibis()``/``path`` of its store, so
code that only reads the store accepts one where it took a Store.
"""

from __future__ import annotations

from typing import Any, Iterable

from .profile import CityProfile, get_profile

__all__ = ["Dataset", "as_dataset"]


class Dataset:
    """A store read as one city's data.

    Attributes
    ----------
    store : Store (or a read-only view of one)
    profile : CityProfile
    key : str
        The profile's source key (``incidents.source``).
    """

    def __init__(self, store: Any, profile: "str | CityProfile | None" = None):
        if isinstance(store, Dataset):
            store = store.store
        self.store = store
        self.profile = get_profile(profile)

    # -- the store's attributes, so a Dataset can be passed where a Store was -----
    @property
    def key(self) -> str:
        return self.profile.key

    source = key

    @property
    def con(self):
        return self.store.con

    @property
    def path(self) -> str:
        return getattr(self.store, "path", ":memory:")

    @property
    def aggregates(self):
        """The store's per-snapshot aggregate (a snapshot served by the web), or None."""
        return getattr(self.store, "aggregates", None)

    def ibis(self):
        return self.store.ibis()

    def cursor(self):
        return self.store.cursor()

    # -- what the profile declares, resolved -------------------------------------
    def taxonomy(self, extra: Iterable = (), *, override: bool = False):
        """The profile's categories plus the user category files in ``extra``."""
        from ..categories.taxonomy import taxonomy_for

        return taxonomy_for(self.profile, extra, override=override)

    def category(self, category, taxonomy=None):
        """A Category of this city (a name is looked up in ``taxonomy`` or the profile's)."""
        from ..categories import Category

        if isinstance(category, Category):
            return category
        return (taxonomy or self.taxonomy())[str(category)]

    def incidents(self, *, vintage=None, batch: int | None = None):
        """The Ibis table of this source's incidents (optionally as of a vintage or batch)."""
        from ..stats.query import incidents_table

        return incidents_table(self.ibis(), source=self.key, vintage=vintage, batch=batch)

    def vintage(self, vintage=None, batch: int | None = None) -> dict:
        from ..stats.provenance import data_vintage

        return data_vintage(self.store, self.key, vintage=vintage, batch=batch)

    def units(self, spec: str, cell_size: float | None = None, data_dir=None):
        """The area units named by ``spec`` (``grid``, an area kind, ``h3:RES``) for this city."""
        from ..spatial.units import load_units

        return load_units(spec, cell_size, data_dir, profile=self.profile)

    def close(self) -> None:
        close = getattr(self.store, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> "Dataset":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def has_records(self) -> bool:
        row = self.con.execute("SELECT 1 FROM incidents WHERE source = ? LIMIT 1", [self.key]).fetchone()
        return row is not None

    def __repr__(self) -> str:
        return f"Dataset(store={self.path!r}, source={self.key!r})"


def as_dataset(obj: Any, source: "str | CityProfile | None" = None) -> Dataset:
    """``obj`` as a Dataset: a Dataset is kept (re-targeted when ``source`` names another
    profile); a Store (or store view) means ``source``, default Chicago."""
    if isinstance(obj, Dataset):
        if source is None or get_profile(source).key == obj.key:
            return obj
        return Dataset(obj.store, source)
    return Dataset(obj, source)
