"""Tests of pvpp_kg.validation: reading documents, the policy's validation, reports, submissions."""
