"""The package's public surface: curated names, light import, one exception root."""

from __future__ import annotations

import subprocess
import sys

import pytest

import crimescope
from crimescope import errors


def test_public_api_is_curated_and_resolves():
    assert {"Store", "CrimescopeError", "ParameterError", "IngestError", "count", "ytd", "Grid"} <= set(crimescope.__all__)
    for name in crimescope.__all__:
        assert getattr(crimescope, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        crimescope.nope  # noqa: B018


def test_import_is_light():
    code = ("import sys, crimescope; heavy = [m for m in ('pandas', 'duckdb', 'ibis', 'scipy', 'numba', 'pyspark') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_every_error_has_one_root_and_statuses():
    for name in errors.__all__:
        cls = getattr(errors, name)
        if issubclass(cls, Warning):  # warnings are not errors: a UserWarning the user can filter
            assert issubclass(cls, UserWarning) and not issubclass(cls, errors.CrimescopeError)
            continue
        assert issubclass(cls, errors.CrimescopeError)
        assert isinstance(cls.exit_code, int) and 400 <= cls.http_status < 600
