"""Checks (being written)."""
