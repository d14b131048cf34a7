"""Tests of the bulk CSV import."""
