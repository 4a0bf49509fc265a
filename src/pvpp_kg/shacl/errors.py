"""The engine's one error: shapes it cannot use, named with the shape so the author can find it."""

from __future__ import annotations

from rdflib.term import Node

from pvpp_kg.errors import BadRequest


class ShapesError(BadRequest):
    """An ill-formed shapes graph (SHACL 'failure'): HTTP 400, CLI exit 2."""

    code = "invalid_shapes"

    def __init__(self, shape: Node | None, message: str) -> None:
        where = f"shape {shape.n3() if hasattr(shape, 'n3') else shape}: " if shape is not None else ""
        super().__init__(where + message)
        self.shape = shape


class ValidationFailure(BadRequest):
    """A SHACL-SPARQL query reported ?failure true, or could not run: the report cannot be trusted."""

    code = "validation_failure"
