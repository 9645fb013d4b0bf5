"""Recorded runs written for other tools (no Textual here)."""
