"""Tests of pvpp_kg.sparql: the SPARQL 1.1 Protocol, content negotiation, the W3C query suite."""
