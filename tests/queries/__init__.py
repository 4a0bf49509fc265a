"""Tests of pvpp_kg.queries: the governance query library."""
