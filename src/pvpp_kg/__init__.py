"""pvpp-kg: the knowledge graph of Latvia's public service management policy (PVPP 2024-2027)."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
