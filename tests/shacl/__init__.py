"""Tests of pvpp_kg.shacl: the W3C SHACL suite and comparisons with pyshacl."""
