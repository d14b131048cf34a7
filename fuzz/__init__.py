"""Fuzz targets for every parser (atheris; see harness.py and docs/reliability.md)."""
