"""The governance query library (``queries/*.rq``): loading it, binding typed parameters as RDF terms, and results
kept per data version.

Imports the store and the shared bottom modules.
"""
