"""Tests of pvpp_kg.lod: linked data, dumps, the dataset description."""
