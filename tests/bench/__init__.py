"""Tests of benchmarks/: the report and a tiny smoke run."""
