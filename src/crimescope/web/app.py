"""The FastAPI application: ``create_app(store_path)``.

Pages (HTML, server-rendered with Jinja2; charts with the locally served Plotly
bundle; map geometry as local GeoJSON) and their JSON/CSV twins under ``/api/``
(documented in the OpenAPI schema at ``/api/openapi.json``, browsable at ``/api/docs``).
Every 4xx/5xx answer has one shape, see :mod:`crimescope.web.errors`.

The application reads the store's published snapshot and switches to a newer one
without a restart (:mod:`crimescope.web._context`); every answer says what it read in
its ``X-Crimescope-Data`` header, and ``/api/snapshot.json`` says it with the vintage.
"""

from __future__ import annotations

import contextlib
import logging
from importlib import import_module
from pathlib import Path

from .. import __version__ as _version
from ..errors import StoreError
from ._cache import ResponseCache
from ._context import _STATUS, WebContext
from .errors import ERROR_SCHEMA, install_error_handlers

__all__ = ["create_app", "STATIC_DIR", "SWAGGER_UI_URL"]

log = logging.getLogger("crimescope.web")

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"


def _plotly_source() -> Path:
    try:
        import plotly
    except ImportError as exc:  # pragma: no cover - plotly is in the [web] extra
        raise StoreError("the web extra is not installed: pip install 'crimescope[web]'") from exc
    p = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not p.is_file():  # pragma: no cover
        raise StoreError(f"plotly.min.js not found in the installed plotly package ({p})")
    return p


#: Swagger UI's files as shipped by the fastapi-offline package (Swagger UI 5, which reads OpenAPI 3.1)
SWAGGER_UI_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png")
SWAGGER_UI_URL = "/static/vendor/swagger-ui"


def _swagger_ui_source() -> Path:
    """The folder of Swagger UI's files in the installed fastapi-offline package (served, not copied)."""
    try:
        import fastapi_offline
    except ImportError as exc:  # pragma: no cover - fastapi-offline is in the [web] extra
        raise StoreError("the web extra is not installed: pip install 'crimescope[web]'") from exc
    d = Path(fastapi_offline.__file__).parent / "static"
    missing = [f for f in SWAGGER_UI_FILES if not (d / f).is_file()]
    if missing:  # pragma: no cover
        raise StoreError(f"Swagger UI files {', '.join(missing)} not found in the installed fastapi-offline ({d})")
    return d


def _templates():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
                             autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined)

    def num(v, digits=0):
        if v is None or v != v:
            return "n/a"
        return f"{v:,.{digits}f}"

    def pct(v):
        if v is None or v != v:
            return "n/a"
        return f"{v:+.1f}%"

    def when(v):
        """A timestamp to the minute, in UTC when it carries a zone ("2026-12-01 22:40 UTC")."""
        import datetime as _dt

        if v is None or v == "":
            return ""
        t = v
        if not isinstance(t, _dt.datetime):
            try:
                t = _dt.datetime.fromisoformat(str(v).replace(" UTC", "+00:00"))
            except ValueError:
                return str(v)
        if t.tzinfo is None:
            return t.strftime("%Y-%m-%d %H:%M")
        return t.astimezone(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    env.filters["num"] = num
    env.filters["pct"] = pct
    env.filters["when"] = when
    from .routes._common import qs

    env.globals["qs"] = qs
    return env


def _warm(ctx, templates=None) -> None:
    """Compute the default Overview (YTD boxes, CompStat), the daily counts behind the trends of its
    categories, and the area codes of each area kind, so the first visitors do not wait; compile the
    page ``templates`` (a Jinja2 environment) and the first views of each page
    (:func:`_warm_first_views`)."""
    from . import views
    from ._daily import AREA_KINDS

    gen = ctx.acquire()
    token = ctx.pin(gen)
    try:
        if ctx.closing:  # the server stopped before the thread started
            return
        try:
            views.overview(ctx, None, [])
            views.compstat(ctx, None, [])
            for name in views._default_categories(ctx):  # the serving city's (DEFAULT_COMPSTAT_CATEGORIES for Chicago)
                views.daily_counts(ctx, name)
            for kind in [k for k in AREA_KINDS if k in ctx.profile.mapped_kinds()]:
                views.area_ids(ctx, kind)
        except Exception:  # noqa: BLE001 - warming is an optimisation; the request path reports errors
            log.warning("warming the overview failed", exc_info=True)
        try:
            if templates is not None:  # compiled once here, not by several threads of the first burst at once
                for name in templates.list_templates(filter_func=lambda n: n.endswith(".html")):
                    templates.get_template(name)
            _warm_first_views(ctx)
        except Exception:  # noqa: BLE001 - as above
            log.warning("warming the first views failed", exc_info=True)
        try:
            _warm_aggregates(ctx, gen)
        except Exception:  # noqa: BLE001 - as above: a request builds a table it needs on first use
            log.warning("building the count tables failed", exc_info=True)
        try:
            _warm_snapshot_structures(ctx, gen)
        except Exception:  # noqa: BLE001 - as above: a request builds what it needs on first use
            log.warning("building the per-snapshot structures failed", exc_info=True)
        if not ctx.closing:
            _freeze_heap()
    finally:
        ctx.unpin(token)
        ctx.release(gen)
        ctx.warming = False


def _freeze_heap() -> None:
    """Move what start-up built (modules, templates, the snapshot's structures: some 300,000 objects)
    out of the cyclic collector's passes (``gc.freeze``): a full collection otherwise walks them all,
    about 200 ms of CPU that falls on whichever request is running, about once per 200 distinct
    views in the load mix. They are still freed by reference counting when released."""
    import gc

    gc.collect()
    gc.freeze()


def _warm_first_views(ctx) -> None:
    """What the first request of each page pays once per process, paid at start instead: the area
    pickers' labels (the boundaries as GeoJSON, which every page's form lists; the claim page among
    them), and one default view per route kind (a trend, map counts, hot spots, a forecast), whose
    first call imports its libraries (statsmodels, pyarrow's compute engine, the models). In a
    burst those first calls otherwise run many times at once, each thread building or importing
    the same things under the interpreter lock, and the cheap requests wait behind them."""
    import datetime as dt

    from . import views
    from .routes._common import area_options

    area_options(ctx)
    import importlib

    try:  # statsmodels' STL (about 0.7 s): stl_expected imports it by name on a trend's first expected series
        importlib.import_module("statsmodels.tsa.seasonal")
    except ImportError:  # without the extra, trends say so on request
        pass
    if ctx.closing:
        return
    end = views.as_of_default(ctx)
    start = end - dt.timedelta(days=27)
    name = ctx.profile.default_category
    views.trends(ctx, name, "citywide", None, None, end, "week")
    mapped = ctx.profile.mapped_kinds()
    if mapped and not ctx.closing:
        views.map_counts(ctx, name, mapped[0], start, end, "count")
        views.hotspots(ctx, name, start, end, 1000)
        views.forecast(ctx, name, end + dt.timedelta(days=1), 1000, "best")
        _warm_float_texts(ctx)


def _warm_float_texts(ctx) -> None:
    """The JSON texts of the numbers a hot spot or forecast answer repeats (``routes._common.
    keep_float_texts``): the cell coordinates of the 1,000 and 2,000 grids (rounded as the layers
    round them) and the z scores to 3 decimals within +-40; writing them (``float.__repr__``) was
    most of the encoding of a hot spot answer (up to 1 MB, 12 of its numbers a cell)."""
    import numpy as np

    from ..app.dashboard import cell_lonlat
    from . import views
    from .routes._common import keep_float_texts

    for cell in (1000, 2000):
        if ctx.closing:
            return
        keep_float_texts(*(np.round(a, 6) for a in cell_lonlat(views._grid(ctx, cell))))
    keep_float_texts(np.arange(-40_000, 40_001) / 1000.0)


def _warm_aggregates(ctx, gen) -> None:
    """Build the snapshot's count table of every category of the city (``stats._aggregate``), so the
    first request of a category does not scan the store (0.1-0.4 s each on 1.7M rows)."""
    from ..categories.taxonomy import taxonomy_for

    if gen.aggregates is None:
        return
    for cat in taxonomy_for(ctx.profile).values():
        if ctx.closing:  # the server is stopping: the rest is built on first use, if ever
            return
        if getattr(cat, "sources", ()) and ctx.source not in cat.sources:
            continue
        gen.aggregates.table(ctx.source, cat)


#: the grid cells (feet) whose per-cell records by day are built at start (the hot spot layer's sizes)
WARM_CELLS = (500, 1000, 2000)


def _warm_categories(ctx) -> list:
    """The city's categories (those of its own records), in the taxonomy's order."""
    from ..categories.taxonomy import taxonomy_for

    return [cat for cat in taxonomy_for(ctx.profile).values()
            if not (getattr(cat, "sources", ()) and ctx.source not in cat.sources)]


def _warm_snapshot_structures(ctx, gen) -> None:
    """After the count tables, what the first distinct views of a category would build inside a
    burst: its daily counts per area (trends), its records' grid cells by day on each of
    :data:`WARM_CELLS` (hot spots; one read of its records for the three grids), and, for the
    Overview's categories and the city's default one, the event history the forecast layer cuts
    its spans from, the records per case a pace's dispersion needs and (in the city claims are
    checked against) the claim check's current rows and revised ids. Each category's record
    types (coverage's ``category_spans``: a scan of the store) are memoised too. On the 1.7M-row store
    about 150 MiB for 44 categories besides the 65 MiB of count tables (docs/benchmarks/web.md)."""
    import datetime as dt

    from . import views
    from ..spatial.cell_days import warm_cell_days
    from ..stats import _claim_index
    from ..stats.claims import CLAIM_SOURCE
    from ..stats.events import _from_snapshot
    from ..stats.pace import _dispersion
    from ..store.coverage import category_spans

    if gen.aggregates is None:
        return
    cats = _warm_categories(ctx)
    grids = [views._grid(ctx, c) for c in WARM_CELLS] if ctx.profile.mapped_kinds() else []
    for cat in cats:
        if ctx.closing:  # the server is stopping: the rest is built on first use, if ever
            return
        views.daily_counts(ctx, cat.name)
        category_spans(ctx.view(), ctx.source, cat)  # the record types it counts: one scan, memoised
        if grids and not ctx.closing:
            warm_cell_days(ctx.view(), ctx.source, cat, grids)  # the view carries the aggregate
    ds = ctx.dataset()
    headline = [n for n in dict.fromkeys([*views._default_categories(ctx), ctx.profile.default_category]) if n]
    for name in headline:
        if ctx.closing:
            continue
        cat = ds.category(name)
        _from_snapshot(ds, cat, dt.date(2000, 1, 1), dt.date(2000, 1, 1))  # builds the whole history once
        _dispersion(ds.store, cat, ds.key, [], None)  # builds the per-case counts once
    if ctx.source == CLAIM_SOURCE and not ctx.closing:  # what a claim about a headline category reads
        agg = gen.aggregates
        _claim_index._batches(agg, ds.store, ds.key)
        for name in headline:
            if not ctx.closing:
                _claim_index.category_rows(agg, ds.store, ds.key, ds.category(name))  # and the revised ids
        _warm_claims(ctx, ds)  # and the rest a first claim check builds (published figures, ...)


def _warm_claims(ctx, ds) -> None:
    """One claim check per Overview category (the categories a claim's sentence names: murders,
    homicides, shootings, robberies, violent crimes), so the claim structures of the snapshot (its
    revised ids' versions, each category's current rows: ``stats._claim_index``) are built before
    the first claim, not by the first claims of a burst (about 1 s of CPU for four categories)."""
    from ..app import dashboard
    from ..stats.claims import Claim
    from . import views

    end = views.as_of_default(ctx)
    for name in views._default_categories(ctx):
        if ctx.closing:
            return
        dashboard.claim(ds, claims=[Claim(name, 0, start=end.replace(month=1, day=1), end=end)])


class PinGeneration:
    """ASGI middleware: each request reads one generation of the data from start to end.

    It looks for a newer published snapshot (at most every few seconds, see
    ``WebContext.refresh``), pins the current generation for the request (its handler
    threads inherit it), releases it at the end (the last request of a retired
    generation closes its connection), and states what was read in the
    ``X-Crimescope-Data`` header.
    """

    def __init__(self, app, *, ctx: WebContext):
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        gen = self.ctx.acquire()
        d = gen.describe()
        header = f"{d['reads']} {d['file']}" + (f"; published {d['published_at']}" if d["published_at"] else "")
        status = self.ctx.data_status()  # the snapshot is behind the store: said on pages and in meta
        if status:
            header += "; behind the store, newer data is being published"

        async def tagged(message):
            if message["type"] == "http.response.start":
                message = dict(message, headers=[*message.get("headers", []),
                                                 (b"x-crimescope-data", header.encode("latin-1"))])
            await send(message)

        token = self.ctx.pin(gen)
        status_token = _STATUS.set(status)
        try:
            await self.app(scope, receive, tagged)
        finally:
            _STATUS.reset(status_token)
            self.ctx.unpin(token)
            self.ctx.release(gen)


class GenerationResponseCache(ResponseCache):
    """The response cache, keyed also by the generation the request reads, and emptied on a switch."""

    def __init__(self, app, *, ctx: WebContext, **kw):
        super().__init__(app, **kw)
        self.ctx = ctx
        ctx.on_swap(self.clear)

    #: answers that change within a generation (warming, the count tables' size): never cached
    UNCACHED = ("/api/snapshot.json",)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] in self.UNCACHED:
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def _key(self, scope) -> tuple:
        return (self.ctx.generation.id, _STATUS.get(), *ResponseCache._key(scope))

    def _shared_key(self, scope, key: tuple) -> tuple:
        return (self.ctx.generation.identity, *key[1:])  # the file read, not this process's number for it


class DropEmptyQueryValues:
    """ASGI middleware: ``?district=&start=`` means "not given" (what an HTML form sends for empty
    fields), so empty values are removed from the query string before validation."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("query_string"):
            from urllib.parse import parse_qsl, urlencode

            pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            kept = [(k, v) for k, v in pairs if v != ""]
            if len(kept) != len(pairs):
                scope = dict(scope, query_string=urlencode(kept).encode("latin-1"))
        await self.app(scope, receive, send)


def _source_dependency():
    """The ``source`` query parameter of every route: the city (profile key) the answer is for.

    An async dependency, so the city it sets is seen by the handler's worker thread; an
    unknown key is a ParameterError (400, the one error shape)."""
    from fastapi import Depends, Query

    from ._context import set_request_source

    async def source_param(source: "str | None" = Query(
            None, pattern=r"^[a-z][a-z0-9_]{0,40}$",
            description="City (profile key): chicago (default) or nyc_shootings; see /api/cities.json")) -> None:
        set_request_source(source)

    return Depends(source_param)


def create_app(store_path, *, shared_dir=None, cache_size: int = 512, response_cache_mb: int = 64,
               warm: bool = False, heavy_workers: int | None = None, light_workers: int | None = None,
               snapshot_check_seconds: float = 2.0,
               source: str | None = None, aggregates: bool = True,
               shared_responses=None, process: tuple[int, int] | None = None):
    """The dashboard + API over the store at ``store_path``, read through its published snapshot.

    ``shared_dir`` is the shared data folder (boundaries, population); default:
    ``crimescope.settings.shared_data_dir()``. ``cache_size`` bounds the cached
    results, ``response_cache_mb`` the cached 200 answers (0 turns that cache off);
    ``warm`` computes the default Overview in a background thread at startup;
    ``heavy_workers`` bounds the expensive views computed at once and ``light_workers`` the cheap
    requests (claims, boundaries, files) answered beside them (:mod:`crimescope.web.admission`;
    default: the settings ``web_heavy_workers`` and ``web_light_workers``); the threads that run
    request handlers number their sum;
    ``snapshot_check_seconds`` is the longest time between two looks for a newer
    snapshot. When the store has no snapshot (or one older than the store), one is
    published first, so the server never holds the store's lock
    (``crimescope.store.snapshot.open_for_reading``). ``source`` is the city a request
    reads when it gives no ``source`` parameter (default Chicago). A reference file a
    city profile declares that is missing stops the start with SetupError. ``aggregates``:
    answer counts from per-snapshot count tables (``crimescope.stats._aggregate``; False
    queries the store for each, as the benchmark's comparison does). ``shared_responses``: a
    folder of answers shared with the other processes of one server, and ``process`` this
    process's ``(index, count)`` among them (both set by ``serve --processes``,
    :mod:`crimescope.web._processes`).
    """
    from ..reference import require_reference

    require_reference(data_dir=shared_dir)
    from fastapi import FastAPI
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.openapi.utils import get_openapi
    from fastapi.responses import FileResponse
    from fastapi.staticfiles import StaticFiles

    from .. import settings
    from .admission import Admission, Lanes

    lanes = Lanes(settings.get("web_heavy_workers", heavy_workers), settings.get("web_light_workers", light_workers))
    ctx = WebContext(store_path, shared_dir=shared_dir, cache_size=cache_size, publish=True,
                     check_interval=snapshot_check_seconds, source=source, aggregates=aggregates)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        # handlers run on AnyIO's worker threads, each with its own store cursor; on a small
        # machine a few warm threads answer a burst faster than 40 cold ones (its default).
        # As many as the lanes admit together: a light request always finds one
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = lanes.threads
        if warm:
            def start_warming():
                if ctx.closing:
                    return
                ctx.warming = True
                ctx.start_background(_warm, "crimescope-warm", ctx, app.state.templates)

            start_warming()
            ctx.on_swap(start_warming)  # a newer snapshot: its Overview and count tables, in the background
        yield
        ctx.close()

    app = FastAPI(title="crimescope", version=_version,
                  description="Violent-crime figures with their counting rules: every view of the dashboard "
                              "as JSON and CSV. Errors: `{\"error\": {\"status\", \"type\", \"message\"}}`.",
                  openapi_url="/api/openapi.json", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.ctx = ctx
    app.state.lanes = lanes
    # innermost: a request waits for room in its lane (heavy views / light ones) after the cache missed
    app.add_middleware(Admission, lanes=lanes)
    response_cache: list = []
    if response_cache_mb > 0:
        from ._cache import SharedResponses

        shared = (SharedResponses(shared_responses, max_bytes=int(response_cache_mb) * 2**20)
                  if shared_responses is not None else None)

        def response_cache_middleware(inner, **kw):
            cache = GenerationResponseCache(inner, **kw)
            response_cache.append(cache)
            return cache

        app.add_middleware(response_cache_middleware, ctx=ctx, max_bytes=int(response_cache_mb) * 2**20,
                           shared=shared)
    app.add_middleware(DropEmptyQueryValues)
    app.add_middleware(PinGeneration, ctx=ctx)  # the response cache is keyed by its generation
    from ._server import LimitRequestSize

    app.add_middleware(LimitRequestSize)  # outermost: a too long URL or header block is refused first (414/431)
    app.state.templates = _templates()
    install_error_handlers(app)

    # Plotly's bundle is served straight from the installed plotly package (no CDN, no copy)
    plotly_js = _plotly_source()

    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    def _plotly():
        return FileResponse(plotly_js, media_type="application/javascript")

    # Swagger UI (/api/docs) with its files served from the installed fastapi-offline package: no CDN
    app.mount(SWAGGER_UI_URL, StaticFiles(directory=str(_swagger_ui_source())), name="swagger-ui")

    @app.get("/api/docs", include_in_schema=False)
    def _swagger_ui():
        return get_swagger_ui_html(
            openapi_url=app.openapi_url, title=f"{app.title} - Swagger UI", oauth2_redirect_url=None,
            swagger_js_url=f"{SWAGGER_UI_URL}/swagger-ui-bundle.js", swagger_css_url=f"{SWAGGER_UI_URL}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_UI_URL}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None})  # no badge fetched from validator.swagger.io

    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def _favicon():
        return FileResponse(STATIC_DIR / "favicon.ico", media_type="image/x-icon",
                            headers={"Cache-Control": "public, max-age=86400"})

    from .routes._common import ERROR_RESPONSES, respond_dict

    source_dep = _source_dependency()

    @app.get("/api/snapshot.json", tags=["data"], responses=ERROR_RESPONSES, dependencies=[source_dep],
             summary="What the server reads: the snapshot file, when it was published, its data vintage")
    def _snapshot_json():
        """The snapshot file the server reads (``reads``: snapshot, or the store itself read-only), when
        it was published, the data vintage of the city asked, and how often the server looks for a
        newer snapshot. Every answer states the same in its ``X-Crimescope-Data`` header."""
        from ..stats.provenance import data_vintage

        gen = ctx.generation
        doc = {"title": "Data served", "store": ctx.store_path.name, **gen.describe(), "city": ctx.source,
               "behind_store": ctx.behind, "data_status": ctx.data_status(),
               "warming": ctx.warming,
               "count_tables_bytes": gen.aggregates.nbytes if gen.aggregates is not None else None,
               "snapshot_structures_bytes": gen.aggregates.held_bytes() if gen.aggregates is not None else None,
               "vintage": ctx.cached(("snapshot_vintage",), lambda: data_vintage(ctx.dataset())),
               "check_interval_seconds": ctx.check_interval,
               "server": {"process": process[0] if process else 0, "processes": process[1] if process else 1},
               "response_cache": _response_cache_doc()}
        return respond_dict(doc)

    def _response_cache_doc() -> dict | None:
        """How this server process's response cache was used (None: no cache)."""
        for cache in response_cache[-1:]:  # the stack Starlette built last
            return {"hits": cache.hits, "misses": cache.misses,
                    "shared_hits": cache.shared.hits if cache.shared is not None else None}
        return None

    from .routes import ROUTE_MODULES

    @app.get("/api/cities.json", tags=["data"], responses=ERROR_RESPONSES,
             summary="The registered cities (profiles): key, publisher, time zone, CRS and its unit, area kinds")
    def _cities_json():
        """Every registered city profile (the values of the ``source`` parameter): its publisher, time
        zone, coordinate system and linear unit, and the area kinds it has boundaries of; ``default``
        is the city read when a request names none."""
        from ..datasets import profiles

        return respond_dict({"title": "Cities", "default": ctx.default_source,
                             "cities": [p.as_dict() for p in profiles().values()]})

    for name in ROUTE_MODULES:
        app.include_router(import_module(f"crimescope.web.routes.{name}").router, dependencies=[source_dep])

    def openapi():
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        comps = schema.setdefault("components", {}).setdefault("schemas", {})
        comps["Error"] = ERROR_SCHEMA
        for name in ("HTTPValidationError", "ValidationError"):
            comps.pop(name, None)
        for path in schema.get("paths", {}).values():
            for op in path.values():
                op.get("responses", {}).pop("422", None)
        from ._openapi import refine_schema

        app.openapi_schema = refine_schema(schema)  # the limits the handlers enforce, stated in the schema
        return schema

    app.openapi = openapi
    return app
