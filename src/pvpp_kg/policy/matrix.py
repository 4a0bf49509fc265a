"""The responsibility matrix (task × role → A/L) from its CSV source to RDF.

The CSV (``data/reference/responsibility-matrix.csv``) has one row per non-empty cell, so the matrix can be
reviewed and diffed as plain text; this module turns each row into a ``pvpp:ResponsibilityAssignment``.
Anything the vocabulary does not know is rejected with the file and line, because a silently dropped or
mistyped cell would change who is responsible for a task.
"""

from __future__ import annotations

import csv
from pathlib import Path

from rdflib import RDF, RDFS, Graph, Literal, URIRef

from pvpp_kg.namespaces import ID, PVPP

__all__ = ["COLUMNS", "ROLES", "TASKS", "read_matrix"]

COLUMNS = ("task", "role_code", "role_lv", "value", "provenance")

#: The 10 role codes (R1..R10, header order of the seed's matrix) and their Latvian names.
ROLES: dict[str, str] = {
    "VVI": "Pakalpojumu pārvaldības valsts vadošā iestāde",
    "NVI": "Pakalpojumu pārvaldības nozares vadošā iestāde",
    "PVI": "Pakalpojumu pārvaldības pašvaldības vadošā iestāde",
    "IPKS": "Iestādes pakalpojumu kopuma saimnieks",
    "PS": "Pakalpojuma saimnieks",
    "PSn": "Pakalpojuma sniedzējs",
    "PSa": "Pakalpojuma saņēmējs",
    "IRKS": "Iestādes resursu kopuma saimnieks",
    "RS": "Resursa saimnieks",
    "RL": "Resursa lietotājs",
}

#: The 32 task notations, in matrix row order.
TASKS: tuple[str, ...] = (
    *(f"PU1-{i}" for i in range(1, 6)),
    *(f"PU2-{i}" for i in range(1, 24)),
    *(f"PU3-{i}" for i in range(1, 5)),
)

VALUES = {"A": ("atbildīgs", "responsible"), "L": ("līdzatbildīgs", "co-responsible")}
READINGS = ("seed", "seed-shift", "inferred")


def assignment_iri(task: str, role: str) -> URIRef:
    """IRI of one matrix cell, ``id/assignment/{task}/{role}`` (docs/model.md)."""
    return ID[f"assignment/{task}/{role}"]


def read_matrix(path: Path) -> Graph:
    """Convert the matrix CSV to RDF: one ``pvpp:ResponsibilityAssignment`` per row.

    Raises ``ValueError("{path}:{line}: …")`` for a missing column, an unknown task, role, value or
    provenance, a role name that does not match its code, or a cell given twice.
    """
    g = Graph()
    g.bind("pvpp", PVPP)
    seen: dict[tuple[str, str], int] = {}
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}:1: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
        for row in reader:
            line = reader.line_num

            def fail(msg: str, line: int = line) -> ValueError:
                return ValueError(f"{path}:{line}: {msg}")

            task, role = (row["task"] or "").strip(), (row["role_code"] or "").strip()
            value, reading = (row["value"] or "").strip(), (row["provenance"] or "").strip()
            if task not in TASKS:
                raise fail(f"unknown task {task!r}")
            if role not in ROLES:
                raise fail(f"unknown role code {role!r}")
            role_lv = (row["role_lv"] or "").strip()
            if role_lv and role_lv != ROLES[role]:
                raise fail(f"role name {role_lv!r} does not match role code {role!r} ({ROLES[role]!r})")
            if value not in VALUES:
                raise fail(f"unknown value {value!r} (expected A or L)")
            if reading not in READINGS:
                raise fail(f"unknown provenance {reading!r} (expected one of {', '.join(READINGS)})")
            if (task, role) in seen:
                raise fail(f"duplicate cell {task} × {role} (first given on line {seen[task, role]})")
            seen[task, role] = line

            a = assignment_iri(task, role)
            g.add((a, RDF.type, PVPP.ResponsibilityAssignment))
            g.add((a, PVPP.task, ID[f"task/{task}"]))
            g.add((a, PVPP.role, ID[f"role/{role}"]))
            g.add((a, PVPP.responsibility, ID[f"responsibility/{value}"]))
            g.add((a, PVPP.reading, ID[f"reading/{reading}"]))
            lv, en = VALUES[value]
            g.add((a, RDFS.label, Literal(f"{task} × {role}: {lv}", lang="lv")))
            g.add((a, RDFS.label, Literal(f"{task} × {role}: {en}", lang="en")))
    return g
