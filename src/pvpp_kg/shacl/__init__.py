"""pvpp-kg's SHACL engine: SHACL Core and SHACL-SPARQL compiled to SPARQL and evaluated on a pyoxigraph store.

It owns shapes parsing, focus nodes, constraint components and the standard report; it imports only rdflib,
pyoxigraph and :mod:`pvpp_kg.errors`. The policy's own use of it (layers, reference context, messages) lives in
:mod:`pvpp_kg.validation`.
"""

from pvpp_kg.shacl.engine import originals, validate, validate_each, validate_graphs
from pvpp_kg.shacl.errors import ShapesError, ValidationFailure
from pvpp_kg.shacl.paths import Path
from pvpp_kg.shacl.report import Report, Result, shape_description
from pvpp_kg.shacl.shapes import ShapesGraph

__all__ = [
    "Path",
    "Report",
    "Result",
    "ShapesError",
    "ShapesGraph",
    "ValidationFailure",
    "originals",
    "shape_description",
    "validate",
    "validate_each",
    "validate_graphs",
]
