"""The commander's brief read back from its PDF (pypdf text extraction) and its pages as PNGs.

The city brief and a district brief of the test store (every 8th row of 2016-2017, as of
2017-06-30) are written once as PDFs. Their text must hold the library's figures
(``stats.ytd``, ``stats.compstat``) formatted for a reader (thousands separators), the
22-row district table, the test labels, and none of the tool's jargon; every page becomes
a PNG (``pdftoppm``) copied to ``test-artifacts/web/``.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from _webtests import AS_OF

pytestmark = pytest.mark.shared
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
#: what a reader's document must never contain (commands, registry names, store files, shared paths)
JARGON = ("naive_", "crimescope ", ".duckdb", "../shared", "shared/data", "`", "--category", "backtest --",
          "violent_index", "gun_violence", "armed_robbery", ".csv", "EPSG", "/api/")
PREV_YEAR = int(AS_OF[:4]) - 1


def _pdf_text(path) -> list[str]:
    pypdf = pytest.importorskip("pypdf", reason="pypdf (test extra) not installed")
    return [p.extract_text() for p in pypdf.PdfReader(str(path)).pages]


@pytest.fixture(scope="module")
def city(web_store_path, tmp_path_factory):
    pytest.importorskip("weasyprint", reason="WeasyPrint not installed")
    from crimescope.report import build_brief

    b = build_brief(web_store_path, AS_OF)
    pdf = b.write(tmp_path_factory.mktemp("brief") / "brief-city.pdf")
    return b, pdf, _pdf_text(pdf)


@pytest.fixture(scope="module")
def district_code(web_store):
    """The district with the most shootings year to date in the test store."""
    from crimescope.stats import ytd

    comp = ytd(web_store, "shooting", AS_OF, years=1, by=["district"]).meta["comparison"]
    return str(max(comp, key=lambda c: c["count"])["district"])


@pytest.fixture(scope="module")
def one_district(web_store_path, district_code, tmp_path_factory):
    pytest.importorskip("weasyprint", reason="WeasyPrint not installed")
    from crimescope.report import build_brief

    b = build_brief(web_store_path, AS_OF, district=district_code)
    pdf = b.write(tmp_path_factory.mktemp("brief") / f"brief-district-{district_code}.pdf")
    return b, pdf, _pdf_text(pdf)


def _cell_pattern(count: int, prev: int) -> str:
    """A page-1 cell as extracted: the count, then '<year before>: <its count>' (no separator needed)."""
    return rf"(?<![\d,]){re.escape(f'{count:,}')}\s*{PREV_YEAR}: {re.escape(f'{prev:,}')} "


def test_page1_holds_the_city_numbers_of_stats(city, web_store):
    from crimescope.stats import compstat, ytd

    b, _pdf, pages = city
    p1 = pages[0]
    assert "Violent crime in Chicago: weekly brief" in p1
    assert "Week ending Friday, June 30, 2017" in p1
    cs = compstat(web_store, AS_OF).table
    city_rows = cs[cs["area"] == "citywide"]
    for cat in b.compstat.meta["categories"]:
        comp = ytd(web_store, cat, AS_OF, years=1).meta["comparison"][0]
        assert re.search(_cell_pattern(comp["count"], comp["last_year"]), p1), (cat, comp["count"])
        for period in ("28d", "week"):
            r = city_rows[(city_rows["category"] == cat) & (city_rows["period"] == period)].iloc[0]
            assert re.search(_cell_pattern(int(r["count"]), int(r["prev_count"])), p1), (cat, period)
    # each figure carries its test label, and the labels are the two kinds the test gives
    assert p1.count("within normal variation") + len(re.findall(r"(up|down), beyond\s+normal\s+variation", p1)) >= 21
    # the test store holds two years: no "on pace for" is made up, and the reason is given
    flat = re.sub(r"\s+", " ", p1)
    assert flat.count("no estimate (note 3)") == len(b.compstat.meta["categories"])
    assert "pace needs at least 3 prior covered years" in re.sub(r"\s+", " ", " ".join(pages))


def test_thousands_separators_and_integers(city):
    _b, _pdf, pages = city
    p1 = pages[0]
    assert re.search(r"\d,\d{3}", p1), "no number of 1,000 or more printed with its separator"
    # a run of 4+ digits is a year or part of a date/time, never an unseparated count (the notes
    # quote IUCR codes such as 0130, so they are left out)
    figures = " ".join(pages).split("Notes and sources", 1)[0]
    for m in re.finditer(r"(?<![\d,.:\-])\d{4,}(?![\d,.:\-])", figures):
        assert 2000 <= int(m.group()) <= 2030, m.group()
    assert not re.search(r"\b\d+\.0(?![\d%])", p1)  # integers as integers ("55628.0" never)


def _district_rows(page: str, heading: str) -> list[list[str]]:
    part = page.split(heading, 1)[1].split("\nCity ", 1)[0]
    return [line.split() for line in part.splitlines() if re.match(r"^\d{1,2} [\d,]+ [\d,]+ ", line)]


def test_city_district_table_has_the_22_districts(city, web_store):
    from crimescope.stats import compstat

    b, _pdf, pages = city
    rows = _district_rows(pages[0], "Districts: shooting (incidents)")
    codes = [r[0] for r in rows]
    assert codes == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "14", "15", "16", "17", "18",
                     "19", "20", "22", "24", "25"]
    cs = compstat(web_store, AS_OF).table
    ytd = cs[(cs["category"] == "shooting") & (cs["area"] == "district") & (cs["period"] == "ytd")]
    for r in rows:
        lib = ytd[ytd["district"] == int(r[0])].iloc[0]
        assert r[1] == f"{int(lib['count']):,}" and r[2] == f"{int(lib['prev_count']):,}"
    assert len(b.district_tables[0]["rows"]) == 22
    assert "Districts: murder (victims)" in " ".join(pages)


def test_changes_coloured_only_when_beyond_normal_variation(city):
    b, _pdf, _pages = city
    html = b.to_html()
    table = html.split("Districts: shooting", 1)[1].split("</table>", 1)[0]
    coloured = len(re.findall(r'<td class="lab (up|down)">', table))
    flagged = sum(r[p]["flagged"] for r in b.district_tables[0]["rows"] for p in ("ytd", "28d"))
    flagged += sum(b.district_tables[0]["city"][p]["flagged"] for p in ("ytd", "28d"))
    assert coloured == flagged
    for m in re.finditer(r'<td class="lab (up|down)"><span class="lab">([^<]+)</span>', html):
        assert m.group(2) == f"{m.group(1)}, beyond normal variation"
    for m in re.finditer(r'<td class="lab "><span class="lab">([^<]+)</span>', html):
        assert "beyond" not in m.group(1)


def test_no_tool_jargon_in_either_brief(city, one_district):
    for _b, _pdf, pages in (city, one_district):
        text = re.sub(r"\s+", " ", "\n".join(pages))
        for word in JARGON:
            assert word not in text, word
        assert "last 52 weeks' counts per cell" in text  # the model by its plain name (no backtest here)
        assert "no backtest has been run" in text


def test_district_brief_page1_is_the_districts_numbers(one_district, district_code, web_store):
    from crimescope.stats import compstat, ytd

    b, _pdf, pages = one_district
    p1 = pages[0]
    assert p1.startswith(f"District {district_code}, Chicago: weekly brief")
    cs = compstat(web_store, AS_OF).table
    for cat in b.compstat.meta["categories"]:
        comps = ytd(web_store, cat, AS_OF, years=1, by=["district"]).meta["comparison"]
        comp = next(c for c in comps if c["district"] is not None and str(int(c["district"])) == district_code)
        assert re.search(_cell_pattern(comp["count"], comp["last_year"]), p1), (cat, comp["count"])
        r = cs[(cs["category"] == cat) & (cs["area"] == "district") & (cs["district"] == int(district_code))
               & (cs["period"] == "ytd")].iloc[0]
        assert int(r["count"]) == comp["count"]  # the table and stats.ytd agree
    # the district table is still all 22, the district's row marked
    assert len(_district_rows(p1, "Districts: shooting (incidents)")) == 22
    assert 'class="me"' in b.to_html()
    assert all(p["district"] == district_code for p in b.places)


def test_bad_district_is_a_parameter_error_before_any_work(web_store_path, tmp_path):
    from crimescope.errors import ParameterError
    from crimescope.report import write_brief

    for bad in ("13", "99", "x"):
        with pytest.raises(ParameterError, match="no such police district"):
            write_brief(web_store_path, tmp_path / "b.pdf", AS_OF, district=bad)
    assert not (tmp_path / "b.pdf").exists()


def test_partial_weeks_are_marked_not_dips(city):
    """As of Friday 2017-06-30 the 52 weeks start on Friday 2016-07-01: the first week (Monday
    June 27) has 3 days counted, the last (Monday June 26, 2017) 5; all others are whole."""
    from crimescope.report.brief_charts import week_marks

    b, _pdf, _pages = city
    t = b.trends[0].table
    holds = b.trends[0].meta["coverage"]["holds"]
    marks = week_marks(t, dt.date(2016, 7, 1), dt.date(2017, 6, 30), holds)
    assert t["period"].iloc[0] == dt.date(2016, 6, 27) and t["period"].iloc[-1] == dt.date(2017, 6, 26)
    assert [m["days"] for m in marks][0] == 3 and marks[-1]["days"] == 5
    assert marks[0]["partial"] and marks[-1]["partial"]
    assert not any(m["partial"] for m in marks[1:-1])
    # the year before (52 weeks earlier, within Jul 1, 2015 - Jun 30, 2016): the store starts on
    # Jan 1, 2016, so the week of Dec 28, 2015 has 3 days held (partial) and the weeks before it none
    # (no data, not a dip); the last one, Jun 27, 2016, is cut at Jun 30 (4 days)
    prior = {k: (m["prior_days"], m["prior_partial"]) for k, m in zip(t["period"], marks)}
    assert prior[dt.date(2016, 12, 19)] == (0, False)
    assert prior[dt.date(2016, 12, 26)] == (3, True)
    assert prior[dt.date(2017, 1, 2)] == (7, False)
    assert prior[dt.date(2017, 6, 26)] == (4, True)
    assert t.loc[t["period"] == dt.date(2016, 12, 19), "prior_count"].isna().all()  # no data, never 0
    # and a hand-made store-coverage cut: only Jan 1-3, 2017 held of the week of Dec 26, 2016
    m = week_marks(t.iloc[26:27], dt.date(2016, 7, 1), dt.date(2017, 6, 30), [("2017-01-01", "2017-06-30")])[0]
    assert t["period"].iloc[26] == dt.date(2016, 12, 26) and (m["days"], m["partial"]) == (1, True)


def test_every_page_as_png(city, one_district):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) not installed; scripts/ci-system-deps.sh installs it")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, (_b, pdf, pages) in (("city", city), ("district", one_district)):
        assert 4 <= len(pages) <= 8
        prefix = pdf.parent / f"page-{name}"
        subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(prefix)], check=True, timeout=120)
        pngs = sorted(pdf.parent.glob(f"page-{name}-*.png"))
        assert len(pngs) == len(pages)
        for png in pngs:
            head = png.read_bytes()[:24]
            width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
            assert head[:8] == b"\x89PNG\r\n\x1a\n" and 350 < width < height  # A4 portrait
            assert png.stat().st_size > 8_000  # not blank
            shutil.copyfile(png, ARTIFACTS / f"brief-{png.name}")


def _ink_bottom(png) -> float:
    """How far down the page (0-1) its content reaches, leaving out the footer band (the last 6%)."""
    from PIL import Image

    im = Image.open(png).convert("L")
    w, h = im.size
    body = im.crop((0, 0, w, int(h * 0.94))).point(lambda v: 255 if v < 235 else 0)
    box = body.getbbox()
    return 0.0 if box is None else box[3] / h


def test_no_half_empty_pages(city, one_district, tmp_path):
    """Every page but the last is filled past 60% of its height; a district's next-week places follow
    its hot spot map on the same page (the district maps are half a page each)."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) not installed; scripts/ci-system-deps.sh installs it")
    for name, (_b, pdf, pages) in (("city", city), ("district", one_district)):
        subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(tmp_path / name)], check=True, timeout=120)
        pngs = sorted(tmp_path.glob(f"{name}-*.png"))
        assert len(pngs) == len(pages)
        fill = [round(_ink_bottom(p), 2) for p in pngs]
        assert all(f >= 0.6 for f in fill[:-1]), (name, fill)
    _b, _pdf, pages = one_district
    (hot_page,) = [i for i, t in enumerate(pages) if "Hot spots: where shootings concentrated" in t]
    assert "Next week's places" in pages[hot_page]


def test_hot_spot_map_draws_the_dashboards_strongest_cells_and_says_so(city, one_district):
    """Both briefs draw the dashboard map's default hot spot rule, not every significant cell: the
    hot cells at 99% confidence with the largest Gi* z, at most 1% of the city's cells (counted
    here by hand from the brief's own Gi* table), and state the rule under the map."""
    import math

    for b, _pdf, pages in (city, one_district):
        t, cells = b.hotspots.table, b.hotspots.meta["cells"]
        hot99 = t[t["gi_bin"] == 3].sort_values(["gi_z", "cell_id"], ascending=[False, True])
        n = min(len(hot99), max(1, math.ceil(0.01 * cells)))
        assert list(b.hotspots_drawn["cell_id"]) == list(hot99["cell_id"][:n])
        assert len(b.hotspots_drawn) < (t["gi_bin"] > 0).sum()  # fewer than every hot cell
        assert (b.hotspots_drawn["gi_z"].min() >= t.loc[t["gi_bin"] == 3, "gi_z"].iloc[n:].max()
                if len(hot99) > n else True)
        text = re.sub(r"\s+", " ", "\n".join(pages))
        shown = f"Shown: the strongest hot cells at 99% confidence, at most 1% of the city's cells ({n:,} of {cells:,} cells)."
        assert shown in text and "The rule of the dashboard's map." in text


def test_the_map_page_and_the_brief_keep_the_same_cells(city, web_store_path):
    """The dashboard's hot spot layer (rule "top") and the city brief draw the same cells: one function."""
    from fastapi.testclient import TestClient

    from crimescope.web import create_app

    b = city[0]
    s, e = b.notes["hotspot_period"]
    with TestClient(create_app(web_store_path), raise_server_exceptions=False) as c:
        r = c.get("/map", params={"category": "shooting", "start": str(s), "end": str(e), "hot": "true",
                                  "cell": 1000, "spots": "top"})
    assert r.status_code == 200
    assert b.hotspots_shown in r.text.replace("&#39;", "'")
