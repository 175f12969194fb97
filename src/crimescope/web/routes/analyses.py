"""The /api/ twins of the analyses declared in :mod:`crimescope.app` (generated, one per declaration).

``router`` is built when the application is created, so an analysis registered before
``create_app`` gets its routes."""

from __future__ import annotations


def __getattr__(name):
    if name == "router":
        from ...app.api import build_router

        return build_router()
    raise AttributeError(name)
