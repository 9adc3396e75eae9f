"""Templates of the weekly report (package data)."""
