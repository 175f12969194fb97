"""Route modules, one per page (each page with its /api/ JSON and CSV twins)."""

ROUTE_MODULES = ("overview", "trends", "map", "claim", "data", "plan", "evaluate", "analyses")
