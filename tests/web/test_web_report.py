"""The weekly brief: HTML with embedded charts, PDF (WeasyPrint) whose first page becomes a PNG,
and the `serve` / `report` commands."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import typer  # noqa: F401  (Typer evaluates the annotations of _cli's callback in this module)

from _webtests import AS_OF

pytestmark = pytest.mark.shared
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"


@pytest.fixture(scope="module")
def brief(web_store_path):
    from crimescope.report import build_brief

    return build_brief(web_store_path, AS_OF)


def test_brief_html_has_the_figures_charts_and_definitions(brief, web_store, tmp_path):
    from crimescope.stats import ytd

    out = brief.write(tmp_path / "brief.html")
    html = out.read_text(encoding="utf-8")
    assert "Week ending <b>Friday, June 30, 2017</b>" in html
    for row in brief.overview.table.itertuples(index=False):
        comp = ytd(web_store, row.category, AS_OF, years=1).meta["comparison"][0]
        assert row.count == comp["count"]
        assert f'<div class="n">{comp["count"]:,}</div>' in html  # with its thousands separator
    # two trends, hot spots, forecast (and its enlargement when the listed places lie close together)
    assert html.count("data:image/png;base64,") == 4 + ("forecast_zoom" in brief.charts)
    assert "http://" not in html and "https://" not in html  # self-contained, offline
    for c in brief.definitions:  # every category shown is defined by its label, unit and rule
        assert f"<dt>{c['label']} (unit: {c['unit']})</dt>" in html and c["rule"] in html
    assert "no backtest has been run" in html  # no backtest for this store: the accuracy says so


def test_brief_pdf_first_page_to_png(brief, tmp_path):
    pytest.importorskip("weasyprint", reason="WeasyPrint not installed")
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) not installed; scripts/ci-system-deps.sh installs it")
    pdf = brief.write(tmp_path / "brief.pdf")
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-" and len(data) > 20_000
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(tmp_path / "page1")], check=True, timeout=60)
    png = tmp_path / "page1.png"
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    assert 400 < width < height  # A4 portrait at 60 dpi: about 496 x 702
    assert png.stat().st_size > 15_000  # not a blank page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(png, ARTIFACTS / "brief-page1.png")


def test_bad_output_name_is_a_parameter_error(web_store_path, tmp_path):
    from crimescope.errors import ParameterError
    from crimescope.report import write_brief

    with pytest.raises(ParameterError):
        write_brief(web_store_path, tmp_path / "brief.docx", AS_OF)


def _cli():
    from crimescope.cli import web
    from crimescope.cli.context import State

    app = typer.Typer()

    @app.callback()
    def main(ctx: typer.Context, store: Path = typer.Option(..., "--store")):
        ctx.obj = State(store_path=store)

    web.register(app)
    return app


def test_cli_report_and_serve_help(web_store_path, tmp_path):
    from typer.testing import CliRunner

    from crimescope.errors import ParameterError

    runner = CliRunner()
    out = tmp_path / "b.html"
    r = runner.invoke(_cli(), ["--store", str(web_store_path), "report", "--as-of", AS_OF, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.is_file() and "Weekly brief" in out.read_text(encoding="utf-8")
    r = runner.invoke(_cli(), ["--store", str(web_store_path), "report", "--as-of", AS_OF, "--district", "13",
                               "--out", str(tmp_path / "d.html")])
    assert r.exit_code != 0 and isinstance(r.exception, ParameterError) and r.exception.exit_code == 2
    assert not (tmp_path / "d.html").exists()
    r = runner.invoke(_cli(), ["--store", str(web_store_path), "serve", "--help"])
    assert r.exit_code == 0 and "--host" in r.output and "--port" in r.output
