"""`crimescope pace`: the year-end count implied by the year to date, with 80% and 95% intervals."""

from __future__ import annotations

from typing import Optional

import typer

from .context import CategoriesFileOpt, emit, load_user_taxonomy, state
from .counting import CategoryReq, FormatOpt, OutputOpt, _check_format


def register(app: typer.Typer) -> None:
    @app.command("pace")
    def pace_cmd(
        ctx: typer.Context,
        category: CategoryReq,
        as_of: Optional[str] = typer.Option(None, "--as-of", help="Last day counted (default: last complete day in the store)."),
        district: Optional[int] = typer.Option(None, "--district", help="One police district (default citywide)."),
        years: int = typer.Option(10, "--years", help="Use up to this many prior covered years (at least 3 needed)."),
        fmt: FormatOpt = "table",
        categories_file: CategoriesFileOpt = None,
        output: OutputOpt = None,
    ) -> None:
        """On pace for: year-end count from the YTD and the category's seasonal share of the year.

        Intervals (80%, 95%) add the year-to-year variation of the seasonal share to the
        counting noise; the straight-line (365/day) pace is shown for comparison.
        """
        from ..stats.pace import pace

        _check_format(fmt)
        tax = load_user_taxonomy(categories_file, category, source=state(ctx).source)
        with state(ctx).open_dataset() as ds:
            emit(pace(ds, category, as_of, district=district, max_years=years, taxonomy=tax), fmt, output)
