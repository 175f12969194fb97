"""The shipped analyses, each declared once (CLI command and /api/ twins are generated)."""

from __future__ import annotations

from . import counting as _c
from . import dashboard as _d
from .registry import Analysis, Output, Param, register

CATEGORY = Param("category", "category", "Category name (see `crimescope categories`).", required=True,
                 flag="--category", short="-c")
START = Param("start", "date", "First local date, inclusive (YYYY-MM-DD).", required=True, flag="--from")
END = Param("end", "date", "Last local date, inclusive (YYYY-MM-DD).", required=True, flag="--to")
BY = Param("by", "by", "Group by (repeatable or comma-separated): year, month, month_of_year, week, date, dow, "
           "hour, district, beat, ward, community_area, iucr, fbi_code, primary_type.", default=())
AS_OF = Param("as_of", "date", "Last day counted (default: last complete day in the store).", flag="--as-of")
VINTAGE = Param("vintage", "text", "Count the records as they stood at this update time (YYYY-MM-DD[THH:MM]): per "
                "record, the latest version with updated_at <= it, from current and superseded versions.",
                pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
                        r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?)?$")


def _arrests(ds, *, taxonomy, category, start, end, by):
    from ..stats.arrests import arrests

    return arrests(ds, category, start, end, by, taxonomy=taxonomy)


COUNT = register(Analysis(
    name="count",
    summary="Count records of a category between two inclusive local dates, optionally grouped.",
    params=(CATEGORY, START, END, BY, VINTAGE),
    run=_c.count, engines=True, tags=("counting",),
))

YTD = register(Analysis(
    name="ytd",
    summary="Year to date (Jan 1 to the as-of date) vs the same span in previous years.",
    description="The as-of year's rows carry avg_previous_years, the mean of the --years previous years.",
    params=(CATEGORY, AS_OF, Param("years", "int", "Number of previous years to compare with.", default=5, ge=0, le=100),
            BY, VINTAGE),
    run=_c.ytd, engines=True, tags=("counting",),
))

COMPSTAT = register(Analysis(
    name="compstat",
    summary="CompStat: week, 28 days and year to date vs the same spans a year earlier.",
    description="The table shows the citywide rows and the cells beyond normal variation (Benjamini-Hochberg "
                "across the table), saying how many rows it leaves out; --all shows every row, and "
                "--format csv or json always gives every row.",
    params=(AS_OF,
            Param("by", "text", "'district' (citywide + each district) or 'none' (citywide only).",
                  default="district", api=False),
            Param("categories", "categories", "Categories (repeatable; default: the city's CompStat set, for "
                  "Chicago murder, homicide, shooting, gun_violence, robbery, armed_robbery, violent_index).",
                  flag="--category", short="-c",
                  max_items=12),
            VINTAGE,
            Param("category", "category", "Keep the rows of this category only", api=True, cli=False),
            Param("all", "bool", "Show every row in the table (default: citywide and the cells beyond normal "
                  "variation).", default=False, api=False)),
    run=_c.compstat, engines=True, table=_c.compstat_table, tags=("overview",),
))

RATES = register(Analysis(
    name="rates",
    summary="Rates per 100,000 residents by community area, district (apportioned) or citywide.",
    params=(CATEGORY, START, END,
            Param("by", "choice", "community_area, district or citywide.", default="community_area",
                  choices=("community_area", "district", "citywide")),
            Param("census", "int", "Census population year: 2010 or 2020 (default: nearest to the period).")),
    run=_c.rates, tags=("counting",),
))

ARRESTS = register(Analysis(
    name="arrests",
    summary="Share of records with the arrest flag (not the FBI clearance rate).",
    description="Records, records with the arrest flag and their share, per grouping, between two "
                "inclusive local dates (stats.arrests).",
    params=(CATEGORY, START, END, BY),
    run=_arrests,
    tags=("counting",),
))

CITIES = register(Analysis(
    name="cities",
    summary="City-level counts and rates per 100,000 (partial-year figures flagged).",
    params=(Param("metric", "choice", "homicides, rapes, robberies, aggravated_assaults or violent_crime.",
                  default="homicides",
                  choices=("homicides", "rapes", "robberies", "aggravated_assaults", "violent_crime")),
            Param("year", "int", "Year (Marshall UCR 1975-2015; FiveThirtyEight 2014-2016).", required=True,
                  ge=1975, le=2016),
            Param("top", "int", "Only the N cities with the highest counts.")),
    run=_c.cities, store=False, taxonomy=False, tags=("counting",),
    route="ucr_cities",  # /api/cities.json lists the registered city profiles
))

PACE = register(Analysis(
    name="pace",
    summary="On pace for: year-end count from the YTD and the category's seasonal share of the year.",
    description="Intervals (80%, 95%) add the year-to-year variation of the seasonal share to the "
                "counting noise; the straight-line (365/day) pace is shown for comparison.",
    params=(CATEGORY, AS_OF,
            Param("district", "int", "One police district (default citywide).", ge=1, le=999),
            Param("years", "int", "Use up to this many prior covered years (at least 3 needed).", default=10,
                  ge=1, le=50)),
    run=_c.pace, tags=("counting",),
))


# -- the dashboard's analyses (crimescope.app.dashboard); their /api/ twins answer through the
# web's views (request bounds, one cache per server); the pages render the same results
MAP_CATEGORY = Param("category", "category", "Offense category (default: the city's default, shooting for Chicago)",
                     flag="--category", short="-c")
MAP_START = Param("start", "date", "First date (default: January 1 of the end's year)", flag="--from")
MAP_END = Param("end", "date", "Last date (default: the last complete day)", flag="--to")
CELL = Param("cell", "int", "Grid cell size in feet: 500, 1000 or 2000", default=1000)

def _overview_web(ctx, *, as_of, categories):
    from ..web import views

    return views.overview(ctx, as_of, categories)


OVERVIEW = register(Analysis(
    name="overview",
    summary="Year to date per category vs the same span last year.",
    description="Each category tested on its own (this year vs last), with the year-end pace and its "
                "intervals; a category the store does not hold this year says so, never 0.",
    params=(Param("as_of", "date", "As-of date (YYYY-MM-DD); default: the store's last complete day",
                  flag="--as-of"),
            Param("categories", "categories", "Categories (repeatable; default: the city's CompStat set)",
                  flag="--category", short="-c", max_items=12)),
    run=_d.overview, web=_overview_web, tags=("overview",),
))

TRENDS = register(Analysis(
    name="trends",
    summary="Counts per week or month, each with the same period a year earlier.",
    description="With the seasonal expectation (STL over the store's complete periods) and whether a period "
                "is unusual; a period the store does not hold has no count (never 0).",
    params=(MAP_CATEGORY,
            Param("area_kind", "choice", "citywide or an area kind", default="citywide",
                  choices=lambda: ("citywide", *_d.area_kinds())),
            Param("area", "int", "Area number (with area_kind)", ge=0, le=100000),
            Param("start", "date", "First date (default: 364 days before end)", flag="--from"),
            MAP_END,
            Param("interval", "choice", "week or month", default="week", choices=("week", "month"))),
    run=_d.trends, web="crimescope.web.views:trends", tags=("trends",),
))

MAP = register(Analysis(
    name="map",
    summary="Counts (or rates per 100,000) per community area, district, beat or ward.",
    params=(MAP_CATEGORY,
            Param("kind", "choice", "Area kind of the choropleth", default="community_area", choices=_d.area_kinds),
            MAP_START, MAP_END,
            Param("measure", "choice", "count, or rate per 100,000 residents (community areas, districts)",
                  default="count", choices=("count", "rate"))),
    run=_d.map_counts, web="crimescope.web.views:map_counts", tags=("map",),
    cli=False,  # `crimescope map` draws maps; `count --by community_area` gives these figures
))

def _hotspots(ds, *, taxonomy, **params):
    from .spatial import hotspots

    return hotspots(ds, taxonomy=taxonomy, **params)


def _hotspots_web(ctx, *, category, start, end, cell, **cli_only):
    """The dashboard's layer: significant cells of a web-sized grid (``cli_only``: the command line's
    units, weights and CSV reading, at their defaults here)."""
    from ..web import views

    return views.hotspots(ctx, category, start, end, cell)


SPATIAL_CATEGORY_HELP = "Offense category (see `crimescope categories`), e.g. gun_violence."
FROM_CSV_HELP = ("Instead of the store, import the shared Chicago CSV extracts of the period into a temporary "
             "store (the same importer as `ingest chicago`) and read the events from it.")
SPATIAL_START_HELP = "First local date (YYYY-MM-DD), inclusive."
SPATIAL_END_HELP = "Last local date (YYYY-MM-DD), inclusive."
UNITS_HELP = ("Spatial units: grid, beat, district, ward, community_area, or h3:RES for H3 hexagons "
              "of resolution RES clipped to the city (e.g. h3:8, about 0.74 km²; h3:9, about 0.1 km²).")
CELL_HELP = ("Grid cell size in the city CRS's unit (US feet for Chicago's EPSG:3435 and NYC's EPSG:2263). "
             "(default: the cell_size_ft setting, 500 ft)")
RING_HELP = ("Use contiguity rings as weights: the unit and its neighbours up to this order (H3 grid_disk for "
             "hexagons). [default for h3 units: 1]")

HOTSPOTS = register(Analysis(
    name="hotspots",
    summary="Getis-Ord Gi* hot spots of event counts per unit, with ArcGIS -3..3 confidence bins.",
    api_summary="Significant Gi* hot and cold grid cells over the period.",
    params=(Param("category", "category", MAP_CATEGORY.help, flag="--category", short="-c", positional=True,
                  cli={"help": SPATIAL_CATEGORY_HELP, "required": True}),
            Param("start", "date", MAP_START.help, flag="--from",
                  cli={"kind": "text", "aliases": ("--start",), "help": SPATIAL_START_HELP}),
            Param("end", "date", MAP_END.help, flag="--to",
                  cli={"kind": "text", "aliases": ("--end",), "help": SPATIAL_END_HELP}),
            Param("units", "text", UNITS_HELP, default="grid", api=False),
            Param("cell", "int", CELL.help, default=1000, cli={"kind": "float", "default": None, "help": CELL_HELP}),
            Param("band", "float", "Distance band in feet (binary weights, self included). "
                  "[default: 3 cell sizes for the grid]", api=False),
            Param("knn", "int", "Use the k nearest units instead of a distance band.", api=False),
            Param("ring", "int", RING_HELP, api=False),
            Param("fdr", "bool", "Benjamini-Hochberg correction of the bins.", default=True, api=False),
            Param("from_csv", "bool", FROM_CSV_HELP, default=False, flag="--from-csv", api=False)),
    run=_hotspots, web=_hotspots_web, tags=("map",),
    store_unless="from_csv",
    formats=("table",), output_flags=("--out",), output_help="Write units with z, p, bin (.geojson/.csv/.parquet).",
    emit="crimescope.cli.spatial:emit_hotspots",
    writes=(Output("map_path", "--map", "Draw the bins (.png/.svg/.html).", write="crimescope.cli.spatial:write_map"),),
))

FORECAST = register(Analysis(
    name="forecast",
    summary="Next 7 days' expected events: the top grid cells covering 1% of the city, with backtested PAI.",
    params=(MAP_CATEGORY,
            Param("as_of", "date", "First forecast day (default: the day after the last complete day)",
                  flag="--as-of"),
            CELL,
            Param("model", "text", "Forecast model: best (the last backtest's winner, else naive_52w) or a fast "
                  "model name", default="best", pattern=r"^[a-z][a-z0-9_]{0,40}$")),
    run=_d.forecast, web="crimescope.web.views:forecast", tags=("map",),
    cli=False,  # `crimescope forecast` (cli/forecast.py) fits any model and writes files
))

def _claim_web(ctx, *, file, **values):
    from ..web import views

    return views.claim(ctx, **values)  # ``file`` is the command line's (a YAML of claims): None here


def _claim_table(res, params):
    return res.to_text()  # each claim's check, then the caption


CLAIM = register(Analysis(
    name="claim",
    summary="Recompute a published figure and explain any gap (verdict, known reasons, vintages).",
    params=(Param("text", "text", "The claim as a sentence, e.g. '762 murders in 2016' or '110 homicides so far "
                  "this year' (with as_of)", positional=True,
                  cli={"help": "The claim as a sentence, e.g. '762 murders in 2016' or '110 homicides so far this "
                               "year' (with --as-of)."},
                  api={"max_length": 300}),
            Param("as_of", "date", "Date of the claim (needed for 'so far this year')", flag="--as-of"),
            Param("category", "category", "Category (instead of text)", short="-c"),
            Param("value", "float", "Claimed number (instead of text)", ge=0, le=1e9),
            Param("start", "date", "Period start (instead of text)", flag="--from"),
            Param("end", "date", "Period end (instead of text)", flag="--to"),
            Param("district", "int", "Police district (default citywide)", ge=0, le=1000),
            Param("community_area", "int", "Community area (default citywide)", ge=0, le=1000),
            Param("tolerance", "float", "Absolute difference still counted as a match", default=0.0, ge=0, le=1e6),
            Param("file", "path", "YAML file with a list of claims (instead of text or category and value).",
                  api=False)),
    run=_d.claim, web=_claim_web, table=_claim_table, tags=("claim",),
))


# -- planning and evaluation: what the command line and the dashboard offer differs (the web's
# fast models and bounds), so each parameter states its command-line form and, in ``api={...}``,
# how the /api/ twins and the pages take it
_PLACES_HELP = "Place unit: grid (cells of --cell), block (block faces from the records' blocks), beat, h3:RES."
_QUOTAS_HELP = ("Per-district quotas: none, proportional (share of expected harm), 'LO-HI' for every district, "
                "or 'DISTRICT:LO-HI,...' (budget units; sq mi for area budgets).")
_WEIGHTS_HELP = ("Harm weights: 'default' (crimescope's documented mix, see docs/planning.md), a category name "
                 "(weight 1), or 'category=weight,...'.")
#: fast models only on the web (each plan refits the model per category of the mix)
PLAN_MODELS = ("smooth_counts", "naive_52w", "naive_all", "retro_hotspot", "prospective_hotspot")


def _plan(ds, *, taxonomy, **params):
    from .plan import plan

    return plan(ds, taxonomy=taxonomy, **params)


PLAN = register(Analysis(
    name="plan",
    summary="Which places, how much per district, and when: a deployment plan from a forecast of harm.",
    api_summary="A week's deployment plan: places, expected harm covered, the rule and its limits",
    api_description="A deployment plan for the week from ``as_of``: places, expected harm, high-harm hours, "
                    "visits, with the solver's gap and the cost of each constraint in ``meta``.",
    params=(
        Param("as_of", "text", "Plan start (local date/time); only earlier records are used.", required=True,
              flag="--as-of",
              api={"kind": "date", "required": False,
                   "help": "First day of the plan's week (default: the day after the last complete day)"}),
        Param("budget", "text", "Places ('40'), area ('0.5sqmi', '1%' of the city) or patrol hours a week ('120h').",
              required=True,
              api={"required": False, "default": "40",
                   "pattern": r"^\s*\d{1,6}(\.\d{1,4})?\s*(places?|sqmi|%|h|hours?)?\s*$",
                   "help": "Places ('40'), area ('0.5sqmi', '1%') or patrol hours a week ('60h')"}),
        Param("weights", "text", _WEIGHTS_HELP, default="default",
              api={"max_length": 300, "pattern": r"^[A-Za-z0-9_=:.,\s]+$",
                   "help": "Harm weights: 'default', a category, or 'category=weight,...'"}),
        Param("model", "text", "Forecasting model (see `crimescope models`); naive_all or retro_hotspot for a "
              "hot-spot surface.", default="smooth_counts",
              api={"help": f"Forecast model: one of {', '.join(PLAN_MODELS)}"}),
        Param("horizon", "text", "Plan window: '7d', '1d', '2w'.", default="7d", api=False),
        Param("places", "text", _PLACES_HELP, default="grid",
              api={"pattern": r"^(grid|block|beat|h3:[789])$", "help": "grid, block, beat or h3:7-9"}),
        Param("cell", "text", "Grid cell size in feet (the forecast's grid).", default="500ft",
              api={"kind": "int", "default": 500, "help": "Forecast grid cell size, feet: 500, 1000 or 2000"}),
        Param("quotas", "text", _QUOTAS_HELP, default="none",
              api={"max_length": 300, "pattern": r"^[A-Za-z0-9:.,\-\s]+$",
                   "help": "none, proportional, 'LO-HI' or 'DISTRICT:LO-HI,...'"}),
        Param("equity_cap", "float", "No community area gets more than this multiple of its share of "
              "victimisation (e.g. 2).",
              api={"gt": 0, "le": 100, "help": "No community area above this multiple of its victim share"}),
        Param("spacing", "float", "Minimum distance between chosen places, feet.", default=0.0,
              api={"ge": 0, "le": 1500, "help": "Minimum distance between places, feet (at most 1,500 here)"}),
        Param("exclude", "list", "Leave out a place id, district:N or community_area:N (repeatable).", api=False),
        Param("planner", "text", "ip (exact integer program, HiGHS) or greedy.", default="ip",
              api={"pattern": r"^(ip|greedy)$", "help": "ip (exact integer program) or greedy"}),
        Param("hours_per_place", "float", "Weekly presence per place, hours (hour budgets and the visit schedule).",
              default=1.0, api=False),
        Param("visit_minutes", "float", "Koper visit length, 10-16 minutes.", default=15.0, api=False),
        Param("time_limit", "float", "Integer program time limit, seconds.", default=60.0, api=False),
    ),
    run=_plan, web="crimescope.web.routes.plan:plan_view", tags=("plan",),
    formats=("table", "csv", "json", "geojson"), format_from_output=True,
    format_help="table, csv, json or geojson (default: from the --out file's suffix, else table).",
    output_flags=("--out",), output_help="Write the plan here instead of stdout.",
    emit="crimescope.cli.plan:emit_plan",
    writes=(Output("map_png", "--map", "Also draw a PNG map of the plan here.", write="crimescope.cli.plan:write_map"),
            Output("sheets", "--sheets", "Also write one PDF deployment sheet per district into this folder.",
                   write="crimescope.cli.plan:write_sheets")),
    api_files={"geojson": "A week's deployment plan as GeoJSON: the places and their expected harm"},
))


def _evaluate(ds, *, taxonomy, **params):
    from .evaluate import evaluate

    return evaluate(ds, taxonomy=taxonomy, **params)


EVALUATE = register(Analysis(
    name="evaluate",
    summary="Did it work? The effect on the treated areas, by several methods side by side.",
    description="Treated areas are administrative areas (--areas/--cohorts/--sdsc with --units) or one drawn "
                "area (--cells or --polygon with --start): its records against the control areas away from it.",
    api_summary="Effect of the Strategic Decision Support Centers by several methods, with their agreement",
    api_description="Effect of the Strategic Decision Support Centers (or, with `polygon` and `area_start`, of a "
                    "strategy in one drawn area) by several methods: estimate, interval, p-value, relative change, "
                    "assumptions and warnings per method (JSON: `meta`, `rows`, `evaluations`, `sensitivity`).",
    params=(
        Param("category", "category", "Category name (see `crimescope categories`).", default="shooting",
              flag="--category", short="-c", api={"help": "Offense category"}),
        Param("units", "text", "Area kind: district, beat, ward, community_area.", default="district", api=False),
        Param("step", "text", "Time step of the panel: week or month.", default="month",
              api={"kind": "choice", "choices": ("month", "week"), "help": "Time step of the panel: month or week"}),
        Param("start", "text", "First local date of the panel (default: the first covered).", flag="--from",
              api={"kind": "date", "help": "First date of the panel (default: the first covered)"}),
        Param("end", "text", "Last local date of the panel (default: the last covered).", flag="--to",
              api={"kind": "date", "help": "Last date of the panel (default: the last covered)"}),
        Param("areas", "text", "Treated area codes, comma-separated (with --start).", api=False),
        Param("area_start", "text", "Start date of the intervention for --areas.", flag="--start",
              api={"kind": "date", "help": "Start date of the strategy in the drawn area (with polygon)"}),
        Param("cohorts", "path", "Cohorts CSV (area,start[,note]) for a staggered rollout.", api=False),
        Param("sdsc", "bool", "The Strategic Decision Support Center districts and dates shipped with crimescope.",
              default=False, api=False),
        Param("methods", "text", "Comma-separated methods (see `crimescope evaluate-methods`) or 'all'.",
              default="all", api={"pattern": r"^(all|[a-z]+(,[a-z]+){0,9})$",
                                  "help": "Comma-separated methods or 'all'"}),
        Param("control_group", "text", "cs: nevertreated or notyettreated.", default="nevertreated", api=False),
        Param("shift", "int", "Also move every start by -N and +N months.", default=0, ge=0, flag="--shift-months",
              api={"le": 3, "help": "Also move every start by -N and +N months (sensitivity)"}),
        Param("cells", "text", "Treated area: grid cell ids (lattice ids, comma-separated), with --start.",
              api=False),
        Param("cell", "float", "Cell size of --cells in CRS units (default: the cell_size_ft setting, 500 ft).",
              api=False),
        Param("polygon", "text", "Treated area: a polygon, as a .geojson/.wkt file or GeoJSON/WKT text, with --start.",
              api={"max_length": 20000, "help": "A drawn treated area instead of the SDSC districts: GeoJSON "
                                                "(lon/lat) or a 'lon lat, lon lat, ...' list"}),
        Param("crs", "text", "CRS of --polygon: EPSG:4326 (lon/lat, the GeoJSON default) or the city's (EPSG:3435); "
              "WKT needs it.", api=False),
        Param("controls", "text", "With --cells/--polygon: the control areas (district, beat, ward, community_area) "
              "away from the treated area.", default="beat",
              api={"kind": "choice", "choices": ("district", "beat", "ward", "community_area"),
                   "help": "Control areas away from the drawn area"}),
        Param("ring", "float", "With --cells/--polygon: width of the ring around the area in CRS units (default "
              "1320 ft, a quarter mile).", api=False),
    ),
    run=_evaluate, web="crimescope.web.routes.evaluate:case_view", tags=("evaluate",),
    emit="crimescope.cli.evaluate:emit_evaluation",
    writes=(Output("figures", "--figures", "Write the figures into this folder.",
                   write="crimescope.cli.evaluate:write_figures", err=True,
                   options=(Param("figure_format", "choice", "png or svg.", default="png", choices=("png", "svg"),
                                  flag="--figure-format", api=False),)),),
))


# -- what the store holds
def _rejected(ds, *, taxonomy, limit, offset):
    from .rejected import rejected

    return rejected(ds, limit=limit, offset=offset)


def _rejected_table(res, params):
    from .rejected import rejected_table

    return rejected_table(res, params)


def _web_limit(name: str) -> int:
    from ..web.params import LIMITS  # the request bounds of every route (no web framework imported)

    return LIMITS[name]


REJECTED = register(Analysis(
    name="rejected",
    summary="Rows refused by the importers, with file, line and reason.",
    api_summary="Rows the importer refused, with the reason (paged)",
    params=(Param("limit", "int", "Rows to show (0 = all).", default=20, ge=0,
                  api={"default": 100, "ge": 1, "le": _web_limit("page_rows"), "help": "Rows per page"}),
            Param("offset", "int", "Rows to skip", default=0, ge=0, le=_web_limit("max_offset"), cli=False)),
    run=_rejected, web="crimescope.web.routes.data:rejected_view", table=_rejected_table, tags=("data",),
    taxonomy=False,
))
