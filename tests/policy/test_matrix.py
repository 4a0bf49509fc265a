"""The responsibility matrix in the graph is the shared CSV, cell for cell; bad CSVs are refused loudly."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
from rdflib import RDF, Graph, URIRef
from rdflib.namespace import SKOS

from pvpp_kg.namespaces import ID, PVPP
from pvpp_kg.policy.matrix import read_matrix

ROOT = Path(__file__).resolve().parents[2]
OURS = ROOT / "data" / "reference" / "responsibility-matrix.csv"
SHARED = ROOT.parent / "shared" / "domain" / "responsibility-matrix.csv"
Grid = dict[tuple[str, str], tuple[str, str] | None]


def tail(iri: URIRef) -> str:
    return str(iri).rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def graph() -> Graph:
    g = read_matrix(OURS)
    for p in (ROOT / "data" / "reference").glob("*.ttl"):
        g.parse(p)
    return g


@pytest.fixture(scope="module")
def axes(graph: Graph) -> tuple[list[str], list[str]]:
    """Tasks and roles from the reference vocabularies (not from the CSV), so every empty cell is checked."""
    tasks = sorted(str(graph.value(t, SKOS.notation)) for t in graph.subjects(RDF.type, PVPP.ManagementTask))
    roles = [tail(r) for r in graph.subjects(SKOS.inScheme, ID["scheme/roles"])]
    assert len(tasks) == 32 and len(roles) == 10
    return tasks, roles


def grid_from_graph(g: Graph, tasks: list[str], roles: list[str]) -> Grid:
    grid: Grid = {(t, r): None for t in tasks for r in roles}
    for a in g.subjects(RDF.type, PVPP.ResponsibilityAssignment):
        key = (tail(g.value(a, PVPP.task)), tail(g.value(a, PVPP.role)))
        assert key in grid and grid[key] is None, key
        assert a == ID[f"assignment/{key[0]}/{key[1]}"]
        grid[key] = (tail(g.value(a, PVPP.responsibility)), tail(g.value(a, PVPP.reading)))
    return grid


def grid_from_csv(path: Path, tasks: list[str], roles: list[str]) -> Grid:
    grid: Grid = {(t, r): None for t in tasks for r in roles}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            grid[row["task"], row["role_code"]] = (row["value"], row["provenance"])
    return grid


def test_graph_equals_csv_cell_for_cell(graph: Graph, axes: tuple[list[str], list[str]]) -> None:
    tasks, roles = axes
    ours, theirs = grid_from_graph(graph, tasks, roles), grid_from_csv(OURS, tasks, roles)
    assert len(ours) == len(theirs) == 320
    diff = {k: (ours[k], theirs[k]) for k in ours if ours[k] != theirs[k]}
    assert not diff


def test_concrete_cells(graph: Graph, axes: tuple[list[str], list[str]]) -> None:
    tasks, roles = axes
    grid = grid_from_graph(graph, tasks, roles)
    pu2_21 = {r: grid["PU2-21", r] for r in roles if grid["PU2-21", r]}
    assert {r for r, v in pu2_21.items() if v[0] == "A"} == {"IPKS", "PS", "PSn", "IRKS", "RS"}
    assert {r for r, v in pu2_21.items() if v[0] == "L"} == {"PSa", "RL"}
    assert not [t for t in tasks if grid[t, "PSa"] and grid[t, "PSa"][0] == "A"], "PSa is never A"
    for i in range(1, 5):
        assert grid[f"PU3-{i}", "PSa"] == ("L", "inferred")
    assert all(any(grid[t, r] and grid[t, r][0] == "A" for r in roles) for t in tasks), "every task has an A"
    assert all(grid[t, "IPKS"] == grid[t, "PS"] == ("A", "seed") for t in tasks if t.startswith("PU2-"))


def test_labels(graph: Graph) -> None:
    a = ID["assignment/PU2-21/IPKS"]
    assert {lit.language for lit in graph.objects(a, URIRef("http://www.w3.org/2000/01/rdf-schema#label"))} == {
        "lv",
        "en",
    }


GOOD = "PU2-21,IPKS,Iestādes pakalpojumu kopuma saimnieks,A,seed"


@pytest.mark.parametrize(
    ("rows", "bad_line", "message"),
    [
        ([GOOD, "PU9-1,IPKS,Iestādes pakalpojumu kopuma saimnieks,A,seed"], 3, "unknown task"),
        ([GOOD, "PU2-21,XYZ,Kāds,A,seed"], 3, "unknown role"),
        (["PU2-21,IPKS,Iestādes pakalpojumu kopuma saimnieks,R,seed"], 2, "unknown value"),
        (["PU2-21,IPKS,Iestādes pakalpojumu kopuma saimnieks,A,guess"], 2, "unknown provenance"),
        (["PU2-21,IPKS,Resursa saimnieks,A,seed"], 2, "does not match"),
        ([GOOD, "PU2-20,PS,Pakalpojuma saimnieks,A,seed", GOOD.replace(",A,", ",L,")], 4, "duplicate cell"),
    ],
)
def test_malformed_csv_names_file_and_line(tmp_path: Path, rows: list[str], bad_line: int, message: str) -> None:
    path = tmp_path / "matrix.csv"
    path.write_text("task,role_code,role_lv,value,provenance\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=message) as err:
        read_matrix(path)
    assert f"{path}:{bad_line}:" in str(err.value)


def test_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "matrix.csv"
    path.write_text("task,role_code,value\nPU2-21,IPKS,A\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing column") as err:
        read_matrix(path)
    assert f"{path}:1:" in str(err.value)


# sha256 of shared/domain/responsibility-matrix.csv, the authoritative reading this project vendors
SHARED_SHA256 = "9cc834f32bd8e308b2c218f872f83a34e750bb52762908a3b3dc17c2b9eac5c7"


def test_copy_is_identical_to_shared() -> None:
    """The vendored CSV is byte for byte the shared authoritative reading (checked by its recorded digest,
    and against the shared file itself wherever a checkout has it beside the repository)."""
    assert hashlib.sha256(OURS.read_bytes()).hexdigest() == SHARED_SHA256
    if SHARED.exists():
        assert OURS.read_bytes() == SHARED.read_bytes()
