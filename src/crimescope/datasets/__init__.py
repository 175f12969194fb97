"""City profiles and the Dataset (a store read as one city's data); see docs/architecture.md."""

from __future__ import annotations

from .dataset import Dataset, as_dataset
from .profile import (
    DEFAULT_SOURCE,
    AreaKindSpec,
    CityProfile,
    get_profile,
    load_profile,
    profile_from_dict,
    profiles,
    register_profile,
)

__all__ = ["Dataset", "as_dataset", "CityProfile", "AreaKindSpec", "get_profile", "load_profile",
           "profile_from_dict", "profiles", "register_profile", "DEFAULT_SOURCE"]
