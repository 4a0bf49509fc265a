"""Linked open data: IRIs and their representations, dereferencing, dumps, the dataset's DCAT/VoID description and
the ontology documentation.

Imports the store and the shared bottom modules.
"""
