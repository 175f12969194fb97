"""The brief's "Did it work?" section: every method's change and interval, or why it is not available."""

from __future__ import annotations

import pytest

from _webtests import AS_OF

pytestmark = pytest.mark.shared


def test_brief_has_the_evaluation_section(web_store_path):
    from crimescope.report import build_brief

    b = build_brief(web_store_path, AS_OF)
    html = b.to_html()
    assert "Did it work? Strategic Decision Support Centers" in html
    if b.evaluation is None:
        assert "evaluation" in b.unavailable and "not available" in html
    else:
        assert set(b.evaluation.results) | set(b.evaluation.failed) == {"did", "cs", "synth"}
        assert str(b.evaluation.panel.span[1]) == "2017-05-31"  # the last full month before the as-of date
        from markupsafe import escape

        from crimescope.report.brief import METHOD_NAMES

        for name, r in b.evaluation.results.items():  # each method by its plain name, signs as in the tables
            rel = f"{100 * r.relative:+.1f}%".replace("-", "\u2212")
            assert f"<td>{escape(METHOD_NAMES[name])}</td><td>{rel}</td>" in html
            lo, hi = (f"{100 * v:+.1f}%".replace("-", "\u2212") for v in (r.relative_low, r.relative_high))
            assert f"{lo} to {hi}</td>" in html and "-" not in lo + hi
