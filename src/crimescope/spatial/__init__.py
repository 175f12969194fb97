"""Where violence concentrates: grids, H3 hexagons and areas, concentration, Gi*, KDE, emerging hot spots, Knox.

Public names load lazily so ``import crimescope.spatial`` stays light (numpy only
when first used; numba only when a Knox test runs). Methods and conventions:
docs/spatial.md. ``crime_concentration`` is ``spatial.concentration.concentration`` and
``kernel_density`` is ``spatial.kde.kde`` (the short names are the submodules').
"""

from __future__ import annotations

from .._lazy import lazy_exports


_LAZY = {
    "Grid": "crimescope.spatial.grid",
    "HexGrid": "crimescope.spatial.hexgrid",
    "load_units": "crimescope.spatial.units",
    "AreaUnits": "crimescope.spatial.units",
    "UnitCounts": "crimescope.spatial.units",
    "assign_units": "crimescope.spatial.units",
    "crime_concentration": "crimescope.spatial.concentration",
    "ConcentrationResult": "crimescope.spatial.concentration",
    "top_stability": "crimescope.spatial.concentration",
    "StabilityResult": "crimescope.spatial.concentration",
    "gini": "crimescope.spatial.concentration",
    "generalized_gini": "crimescope.spatial.concentration",
    "gi_star": "crimescope.spatial.gistar",
    "hotspots": "crimescope.spatial.gistar",
    "GiStarResult": "crimescope.spatial.gistar",
    "distance_band_weights": "crimescope.spatial.gistar",
    "knn_weights": "crimescope.spatial.gistar",
    "kernel_density": "crimescope.spatial.kde",
    "KDEResult": "crimescope.spatial.kde",
    "space_time_cube": "crimescope.spatial.emerging",
    "SpaceTimeCube": "crimescope.spatial.emerging",
    "emerging_hot_spots": "crimescope.spatial.emerging",
    "EmergingResult": "crimescope.spatial.emerging",
    "mann_kendall": "crimescope.spatial.emerging",
    "knox_test": "crimescope.spatial.knox",
    "KnoxResult": "crimescope.spatial.knox",
    "html_map": "crimescope.spatial.maps",
}

__all__ = sorted(_LAZY)


#: public names that differ from the function's name in its module (a package attribute named
#: like a submodule, e.g. ``kde``, would be replaced by the submodule once it is imported)
_RENAMED = {"crime_concentration": "concentration", "kernel_density": "kde"}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, renamed=_RENAMED)
