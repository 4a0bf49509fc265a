"""Tests of pvpp_kg.policy and the policy's data: institutions, matrix, generator, ontology, sample."""
