"""Schemathesis against the OpenAPI schema: no 5xx, and every 4xx in the one error shape.

Bounded: a fixed number of derandomized examples per operation, on the small test
store. (Schemathesis' own pytest plugin does not run on this pytest version, so
each operation's Hypothesis strategy is driven from a plain test.)
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

pytestmark = pytest.mark.shared

EXAMPLES = 12


def _operations(app):
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    ops = [r.ok() for r in schema.get_all_operations()]
    assert len(ops) >= 11
    return ops


@pytest.fixture(scope="module")
def schema_app(web_store_path):
    """An app of its own: schemathesis runs the app's lifespan, whose shutdown closes the store,
    so it must not drive the session's ``web_app`` that later tests still use."""
    from crimescope.web import create_app

    return create_app(web_store_path)


def test_api_never_answers_5xx(schema_app):
    seen = []
    for op in _operations(schema_app):
        @given(case=op.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def run(case):
            response = case.call()
            seen.append(response.status_code)
            assert response.status_code < 500, (case.path, case.query, response.status_code, response.text[:300])
            if response.status_code >= 400:
                body = response.json()
                assert set(body) == {"error"}
                assert set(body["error"]) == {"status", "type", "message"}
                assert body["error"]["status"] == response.status_code

        run()
    print(f"schemathesis: {len(seen)} requests, statuses {sorted(set(seen))}")
    assert any(s == 200 for s in seen) and any(400 <= s < 500 for s in seen)
