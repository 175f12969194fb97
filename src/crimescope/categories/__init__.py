"""Offense categories (IUCR / FBI code sets) with their counting rules."""

from .taxonomy import UNITS, Category, Taxonomy, get_category, known_codes, load_taxonomy

__all__ = ["Category", "Taxonomy", "load_taxonomy", "get_category", "known_codes", "UNITS"]
