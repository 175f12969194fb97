"""The application layer: each analysis declared once, rendered by the CLI, the API and the brief.

An :class:`Analysis` names its parameters (:class:`Param`: name, type, default, help),
its documentation and the library call that computes its result (a ``StatResult``:
table + provenance) from a :class:`~crimescope.datasets.Dataset`. From that one
declaration :mod:`crimescope.app.cli` generates its ``crimescope NAME`` command (with
``--format``, ``--output`` and ``--categories-file``) and :mod:`crimescope.app.api` its
``/api/NAME.json`` and ``/api/NAME.csv`` twins (with the ``source`` parameter every
route has). Adding an analysis is one function plus one :func:`register` call.

The analyses themselves are functions of a Dataset: :mod:`crimescope.app.counting`
(count, ytd, compstat, rates, cities, pace) and :mod:`crimescope.app.dashboard`
(overview, trends, map counts, hot spots, forecast, claim). The dashboard's
:mod:`crimescope.web.views` calls them with the web's bounds and a per-server cache;
see docs/architecture.md, "The application layer".
"""

from __future__ import annotations

from .registry import Analysis, Param, analyses, get, register

__all__ = ["Analysis", "Param", "analyses", "get", "register"]
