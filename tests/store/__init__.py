"""Tests of pvpp_kg.store: the embedded store, backends, the query process, loading."""
