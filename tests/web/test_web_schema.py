"""Schemathesis against the OpenAPI schema, with every check on, in positive and negative modes.

Positive mode sends requests the schema allows: each must be answered 2xx (or 404 for a
category the asked city does not define) unless it breaks one of the cross-parameter rules
listed in :data:`INTENTIONAL` (what one parameter cannot say about another; docs/web.md,
"API contract"). Negative mode sends requests the schema forbids: each must be refused with
4xx, except empty values, which mean "not given" (an HTML form's empty field). Every 4xx is
in the one error shape.

Bounded: a fixed number of derandomized examples per operation, on the small test store,
under two minutes. (Schemathesis' own pytest plugin does not run on this pytest version, so
each operation's Hypothesis strategy is driven from a plain test.)
"""

from __future__ import annotations

import re

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402

pytestmark = pytest.mark.shared

#: examples per operation and mode
EXAMPLES = {"POSITIVE": 4, "NEGATIVE": 3}

#: schema-valid requests the server refuses on purpose (400 ParameterError with this message):
#: rules between parameters, or between a parameter and the data held, that OpenAPI cannot state.
#: (What the store does not hold, a period, category or city, is a 404 CoverageError, which the
#: positive-data check accepts: a plan, pace, evaluation or count over uncovered data.)
INTENTIONAL = {
    r"end \S+ is before start": "a period's end before its start",
    r"\d+ days asked, at most \d+ allowed": "a period longer than the view allows",
    r"area: give the \w+ number": "trends over an area kind need the area's number",
    r"area: leave empty for citywide": "an area number needs an area kind",
    r"measure=rate: rates per 100,000": "rates only for area kinds with a population",
    r"kind: .* has no boundaries": "an area kind the city has no boundaries of",
    r"has no area kind '\w+'": "an area kind the city does not have",
    r"there is no \w+ \d+ in the boundaries": "an area number the boundaries of that kind do not have",
    r"is not among the CompStat categories": "compstat's category must be one of its categories",
    r"give the claim as text, or category and value": "a claim needs its text or category and value",
    r"claim checks read Chicago's published figures only": "claim checks are Chicago's",
    r"cannot read the claim": "a claim sentence the parser does not read (free text)",
    r"invalid (weights|quotas)=": "plan weights and quotas are small languages (free text)",
    r"expected at most 100%": "a plan budget over 100% of the city",
    r"claim period ends \S+ before it starts": "a claim period's end before its start",
    r"the FiveThirtyEight tables cover": "the city tables' years differ by metric and table",
    r"no population table is shipped, so no rates": "rates only for a city with a population table",
    r"a drawn area \(polygon\) needs area_start": "an evaluation's drawn area needs its start date",
}
#: schema-violating requests the server answers on purpose: empty values mean "not given"
INTENTIONAL_ACCEPTED = "an empty query value (an HTML form's empty field) means the parameter is not given"


def _message(text: str) -> str:
    """The server's error message quoted in a schemathesis failure report."""
    m = re.search(r'"message":\s*"((?:[^"\\]|\\.)*)"', text)
    return m.group(1) if m else ""


def _document(app) -> dict:
    """The OpenAPI document as served (no lifespan run: its shutdown would close the store)."""
    from fastapi.testclient import TestClient

    r = TestClient(app).get("/api/openapi.json")
    assert r.status_code == 200
    return r.json()


@pytest.fixture
def schema_app(web_store_path):
    """An app of its own for each test: schemathesis runs the app's lifespan, whose shutdown closes
    the store, so it must drive neither the session's ``web_app`` that later tests still use nor
    an app an earlier test has shut down."""
    from crimescope.web import create_app

    return create_app(web_store_path)


@pytest.fixture
def operations(schema_app):
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", schema_app)
    ops = [r.ok() for r in schema.get_all_operations()]
    assert len(ops) >= 15
    return ops


def _run(ops, mode: str):
    from schemathesis.checks import CHECKS

    checks = CHECKS.get_all()
    assert {"negative_data_rejection", "positive_data_acceptance", "response_schema_conformance",
            "status_code_conformance", "content_type_conformance", "not_a_server_error"} <= {c.__name__ for c in checks}
    statuses, unexpected, intentional = [], [], []
    for op in ops:
        if mode == "NEGATIVE" and not op.iter_parameters():
            continue  # nothing to break: no parameter
        strategy = op.as_strategy(schemathesis.GenerationMode[mode])

        @given(case=strategy)
        @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def run(case):
            response = case.call()
            statuses.append(response.status_code)
            if response.status_code >= 400:
                body = response.json()
                assert set(body) == {"error"} and set(body["error"]) == {"status", "type", "message"}
                assert body["error"]["status"] == response.status_code
            try:
                case.validate_response(response, checks=checks)
            except (AssertionError, BaseExceptionGroup) as exc:
                text = str(exc)
                if mode == "POSITIVE" and response.status_code == 400 and "ST202" in text:
                    msg = _message(text)
                    why = next((w for p, w in INTENTIONAL.items() if re.search(p, msg)), None)
                    if why and text.count("- ST") == 1:
                        intentional.append(why)
                        return
                if (mode == "NEGATIVE" and response.status_code == 200 and "ST201" in text
                        and any(v == "" for v in (case.query or {}).values())):
                    intentional.append(INTENTIONAL_ACCEPTED)
                    return
                unexpected.append(f"{op.label} {case.path_parameters} {case.query} -> "
                                  f"{response.status_code}: {text[:400]}")

        try:
            run()
        except Unsatisfiable:
            assert mode == "NEGATIVE", op.label  # no schema-violating request can be built for it
    return statuses, unexpected, intentional


def test_schema_states_the_enforced_limits(schema_app):
    from crimescope.datasets import profiles

    doc = _document(schema_app)
    params = {(path, p["name"]): p for path, ops in doc["paths"].items() for op in ops.values()
              for p in op.get("parameters", ())}

    def schema(path, name):
        s = params[(path, name)]["schema"]
        return next(x for x in [s, *s.get("anyOf", ())] if x.get("type") not in (None, "null"))

    as_of = schema("/api/overview.{fmt}", "as_of")
    assert as_of["format"] == "date"
    pat = re.compile(as_of["pattern"])
    for ok in ("2001-01-01", "2017-12-31", "2099-02-28", "2100-12-31"):
        assert pat.match(ok), ok
    for bad in ("2000-12-31", "2101-01-01", "0524-01-31", "1999-06-01", "2017-13-01", "2017-01-32"):
        assert not pat.match(bad), bad
    assert "2001-01-01 to 2100-12-31" in params[("/api/overview.{fmt}", "as_of")]["description"]
    assert schema("/api/overview.{fmt}", "source")["enum"] == list(profiles())
    cats = schema("/api/trends.{fmt}", "category")["enum"]
    assert {"homicide", "shooting", "robbery"} <= set(cats)
    assert schema("/api/hotspots.{fmt}", "cell")["enum"] == [500, 1000, 2000]
    assert schema("/api/rates.{fmt}", "census")["enum"] == [2010, 2020]
    assert schema("/api/rejected.{fmt}", "limit")["maximum"] == 500
    assert "best" in schema("/api/forecast.{fmt}", "model")["enum"]
    assert re.match(schema("/api/overview.{fmt}", "categories")["pattern"], "homicide,robbery")
    assert not re.match(schema("/api/overview.{fmt}", "categories")["pattern"], "homicide,nonsense")
    budget = re.compile(schema("/api/plan.{fmt}", "budget")["pattern"])
    assert budget.match("40") and budget.match("0.5sqmi") and budget.match("60h")
    assert not budget.match("16.5") and not budget.match("0")
    assert "depend on each other" in doc["paths"]["/api/trends.{fmt}"]["get"]["description"]


def test_every_operation_has_a_written_summary(schema_app):
    doc = _document(schema_app)
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            summary = op.get("summary", "")
            # FastAPI's generated summary is the function name in title case ("Api Data")
            assert summary and not re.fullmatch(r"(Api|Page)( [A-Z][a-z0-9]*)+", summary), (path, summary)
            assert len(summary) <= 120, (path, summary)
            assert (op.get("description") or "").strip(), (path, "no description")


def test_schemathesis_positive_mode_all_checks(operations):
    statuses, unexpected, intentional = _run(operations, "POSITIVE")
    print(f"schemathesis positive: {len(statuses)} requests, statuses {sorted(set(statuses))}, "
          f"{len(intentional)} intentional refusals ({sorted(set(intentional))})")
    assert not unexpected, "\n".join(unexpected[:10])
    assert sum(s == 200 for s in statuses) >= len(statuses) // 3  # mostly answered, not refused


def test_schemathesis_negative_mode_all_checks(operations):
    statuses, unexpected, intentional = _run(operations, "NEGATIVE")
    print(f"schemathesis negative: {len(statuses)} requests, statuses {sorted(set(statuses))}")
    assert not unexpected, "\n".join(unexpected[:10])
    assert statuses and all(s < 500 for s in statuses)
    assert sum(400 <= s < 500 for s in statuses) >= len(statuses) // 2
