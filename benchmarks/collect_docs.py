"""Rebuild docs/benchmarks.md: its summary table, then the per-area pages in docs/benchmarks/.

    python benchmarks/collect_docs.py

The summary (everything above the first per-area heading) is kept as written by hand;
the per-area pages are copied below it in a fixed order.
"""

from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
ORDER = ["ingest", "counting", "coverage", "significance", "spatial", "forecast", "evaluate", "plan", "web",
         "spark"]


def main() -> None:
    page = DOCS / "benchmarks.md"
    parts = [(DOCS / "benchmarks" / f"{name}.md").read_text(encoding="utf-8").rstrip() for name in ORDER]
    text = page.read_text(encoding="utf-8")
    first = parts[0].splitlines()[0]
    head = text[: text.index(first)] if first in text else text.rstrip() + "\n\n"
    page.write_text(head + "\n\n".join(parts) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
