"""Any shapes, any data: ``pvpp-kg validate --shapes … [--no-policy]`` and ``/validate`` with a ``shapes`` file.

Exit 0 conforms, 1 does not, 2 unusable input or ill-formed shapes (naming the file and the shape); over HTTP
400 for ill-formed shapes. Nothing in a shapes file can make the server open a connection.
"""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from rdflib import BNode, Graph, Literal, Namespace
from rdflib.namespace import RDF, SH, XSD

from pvpp_kg.cli import main
from pvpp_kg.settings import Settings

EX = Namespace("http://example.org/")
PREFIXES = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
SHAPES = (
    PREFIXES
    + """
ex:PersonShape a sh:NodeShape ; sh:targetClass ex:Person ;
  sh:property [ sh:path ex:age ; sh:datatype xsd:integer ;
                sh:message "Vecumam jābūt veselam skaitlim"@lv, "Age must be an integer"@en ] ;
  sh:property [ sh:path ( ex:knows [ sh:inversePath ex:knows ] ) ; sh:class ex:Person ] .
"""
)
DATA = """@prefix ex: <http://example.org/> .
ex:a a ex:Person ; ex:age "x" ; ex:knows ex:b .
ex:c ex:knows ex:b .
"""
GOOD = """@prefix ex: <http://example.org/> .
ex:a a ex:Person ; ex:age 42 .
"""


@pytest.fixture
def run(settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PVPP_DATA_DIR", str(settings.data_dir))
    from pvpp_kg.settings import get_settings

    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(main, list(args))
    get_settings.cache_clear()


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_no_policy_exit_codes_and_the_report(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shapes, data = _write(tmp_path, "s.ttl", SHAPES), _write(tmp_path, "d.ttl", DATA)
    assert run("validate", "--shapes", shapes, "--no-policy", _write(tmp_path, "g.ttl", GOOD)).exit_code == 0

    r = run("validate", "--shapes", shapes, "--no-policy", "--format", "turtle", data)
    assert r.exit_code == 1
    report = Graph().parse(data=r.output, format="turtle")
    results = list(report.subjects(RDF.type, SH.ValidationResult))
    assert len(results) == 2
    [datatype] = report.subjects(SH.sourceConstraintComponent, SH.DatatypeConstraintComponent)
    assert report.value(datatype, SH.value) == Literal("x")
    assert {(str(m), m.language) for m in report.objects(datatype, SH.resultMessage)} == {
        ("Vecumam jābūt veselam skaitlim", "lv"),
        ("Age must be an integer", "en"),
    }
    # the complex path is written with its structure: ( ex:knows [ sh:inversePath ex:knows ] )
    [klass] = report.subjects(SH.sourceConstraintComponent, SH.ClassConstraintComponent)
    assert report.value(klass, SH.value) == EX.c
    path = report.value(klass, SH.resultPath)
    assert isinstance(path, BNode) and report.value(path, RDF.first) == EX.knows
    inverse = report.value(report.value(path, RDF.rest), RDF.first)
    assert report.value(inverse, SH.inversePath) == EX.knows
    # a blank-node source shape comes with its description, as pySHACL and TopBraid copy it: which property, which rule
    shape = report.value(datatype, SH.sourceShape)
    assert isinstance(shape, BNode) and report.value(shape, SH.path) == EX.age
    assert report.value(shape, SH.datatype) == XSD.integer
    class_shape = report.value(klass, SH.sourceShape)
    assert report.value(class_shape, SH["class"]) == EX.Person
    shape_path = report.value(class_shape, SH.path)
    assert report.value(report.value(report.value(shape_path, RDF.rest), RDF.first), SH.inversePath) == EX.knows

    r = run("validate", "--shapes", shapes, "--no-policy", "--format", "json", data)
    body = json.loads(r.output)
    assert r.exit_code == 1 and body["violations"] == 2 and {x["layer"] for x in body["results"]} == {"custom"}


def test_own_shapes_beside_the_policy(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Without --no-policy a user's shapes are one more layer on the merged data: here every service needs an
    English title, which the policy does not demand."""
    shapes = _write(
        tmp_path,
        "s.ttl",
        PREFIXES
        + """
        ex:EnglishTitle a sh:NodeShape ; sh:targetClass <https://w3id.org/pvpp/ontology#Service> ;
          sh:property [ sh:path <http://purl.org/dc/terms/title> ; sh:languageIn ("en") ; sh:minCount 1 ] .""",
    )
    base = str(Path(__file__).parents[1] / "data" / "shapes" / "base.ttl")
    assert run("validate", base).exit_code == 0
    r = run("validate", "--shapes", shapes, "--format", "json", base)
    body = json.loads(r.output)
    assert r.exit_code == 1
    assert {(x["layer"], x["constraint"]) for x in body["results"]} == {("custom", "LanguageInConstraintComponent")}


@pytest.mark.parametrize(
    ("shapes", "named"),
    [
        (
            "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ( ex:p ) ; sh:minCount 1 ] .",
            "a sequence path needs at least two members",
        ),
        (
            "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ( ) ; sh:minCount 1 ] .",
            "an empty list is not a path",
        ),
        ("ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:minCont 1 .", "unknown SHACL parameter"),
        (
            'ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:sparql [ sh:select "SELECT $this WHERE { $this ex:p }" ] .',
            "SPARQL syntax error",
        ),
        (
            "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:sparql [ sh:select "
            '"SELECT $this WHERE { SERVICE <http://127.0.0.1:9/x> { $this ?p ?o } }" ] .',
            "SERVICE is not allowed",
        ),
        ("ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:node ex:S ] .", "reaches itself"),
        # on the same node, through sh:node or sh:or: refused when read, whether or not a node reaches it
        ("ex:S a sh:NodeShape ; sh:targetClass ex:Nothing ; sh:node ex:S .", "reaches itself"),
        (
            "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:or ( [ sh:node ex:S ] [ sh:datatype xsd:string ] ) .",
            "reaches itself",
        ),
    ],
)
def test_bad_shapes_exit_2_naming_file_and_shape(run, tmp_path: Path, shapes: str, named: str) -> None:  # type: ignore[no-untyped-def]
    data = _write(tmp_path, "d.ttl", "@prefix ex: <http://example.org/> . ex:a ex:p ex:b . ex:b ex:p ex:a .")
    path = _write(tmp_path, "bad.ttl", PREFIXES + shapes)
    r = run("validate", "--shapes", path, "--no-policy", data)
    assert r.exit_code == 2, r.output
    assert named in r.output and "<http://example.org/S>" in r.output
    assert f"{path}:" in r.output  # the file, also for a recursion found only while validating (through a path)


def test_no_policy_needs_shapes(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = run("validate", "--no-policy", _write(tmp_path, "d.ttl", DATA))
    assert r.exit_code == 2 and "--shapes" in r.output


def test_http_validate_with_a_shapes_file(client: TestClient) -> None:
    files = {"file": ("d.ttl", DATA, "text/turtle"), "shapes": ("s.ttl", SHAPES, "text/turtle")}
    r = client.post("/validate", files=files, data={"policy": "false"}, headers={"Accept": "application/json"})
    assert r.status_code == 200
    body = r.json()
    assert body["conforms"] is False and body["violations"] == 2
    assert {x["constraint"] for x in body["results"]} == {"DatatypeConstraintComponent", "ClassConstraintComponent"}

    r = client.post("/validate", files=files, data={"policy": "false", "lang": "lv"}, headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and "Vecumam jābūt veselam skaitlim" in r.text


def test_http_bad_shapes_and_parameters_are_400(client: TestClient) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    connections: list[object] = []

    def accept() -> None:
        try:
            connections.append(listener.accept())
        except OSError:
            pass

    watcher = threading.Thread(target=accept)
    watcher.start()
    service = PREFIXES + (
        f"ex:S a sh:NodeShape ; sh:targetClass ex:Person ; sh:sparql [ sh:select "
        f'"SELECT $this WHERE {{ SERVICE <http://127.0.0.1:{port}/x> {{ $this ?p ?o }} }}" ] .'
    )
    files = {"file": ("d.ttl", DATA, "text/turtle"), "shapes": ("s.ttl", service, "text/turtle")}
    r = client.post("/validate", files=files, data={"policy": "false"})
    watcher.join()
    listener.close()
    assert r.status_code == 400 and "SERVICE is not allowed" in r.json()["message"]
    assert connections == []

    files = {"file": ("d.ttl", DATA, "text/turtle"), "shapes": ("s.ttl", SHAPES, "text/turtle")}
    r = client.post("/validate", files=files, data={"policy": "maybe"})
    assert r.status_code == 400 and "policy must be true or false" in r.json()["message"]
    r = client.post("/validate", files={"file": ("d.ttl", DATA, "text/turtle")}, data={"policy": "false"})
    assert r.status_code == 400 and "shapes" in r.json()["message"]
    files = {"file": ("d.ttl", DATA, "text/turtle"), "shapes": ("s.ttl", PREFIXES + "ex:S sh:path 1 .", "text/turtle")}
    r = client.post("/validate", files=files, data={"policy": "false"})
    assert r.status_code == 400 and r.json()["message"].startswith("s.ttl: shape <http://example.org/S>: malformed")


MESSAGE_SHAPES = (
    PREFIXES
    + """
ex:Untagged a sh:NodeShape ; sh:targetNode ex:a ;
  sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:message "plain message" ] .
ex:Filled a sh:NodeShape ; sh:targetNode ex:a ;
  sh:sparql [ sh:select "SELECT $this ?value WHERE { $this <http://example.org/age> ?value }" ;
              sh:message "age {?value} of {$this}"@en, "Alter {?value}"@de ] .
"""
)


def test_messages_as_the_shape_gives_them(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """sh:message in the report as the shape wrote it: without a language tag, in a language other than lv/en,
    and a SPARQL constraint's template filled in with the solution's values (SHACL 5.3.2), never the raw
    template nor a component text in its place; the rows show the untagged message in both languages."""
    shapes = _write(tmp_path, "s.ttl", MESSAGE_SHAPES)
    data = _write(tmp_path, "d.ttl", '@prefix ex: <http://example.org/> . ex:a ex:age "x" .')
    r = run("validate", "--shapes", shapes, "--no-policy", "--format", "turtle", data)
    assert r.exit_code == 1, r.output
    report = Graph().parse(data=r.output, format="turtle")
    [missing] = report.subjects(SH.sourceConstraintComponent, SH.MinCountConstraintComponent)
    assert {(str(m), m.language) for m in report.objects(missing, SH.resultMessage)} == {("plain message", None)}
    [sparql] = report.subjects(SH.sourceConstraintComponent, SH.SPARQLConstraintComponent)
    assert {(str(m), m.language) for m in report.objects(sparql, SH.resultMessage)} == {
        ("age x of http://example.org/a", "en"),
        ("Alter x", "de"),
        # no Latvian message in the shape: the component's own, added for the lv rows
        ("Neatbilst formas prasībai (—).", "lv"),
    }

    body = json.loads(run("validate", "--shapes", shapes, "--no-policy", "--format", "json", data).output)
    rows = {x["constraint"]: x for x in body["results"]}
    assert rows["MinCountConstraintComponent"]["messages"] == {"lv": "plain message", "en": "plain message"}
    assert rows["SPARQLConstraintComponent"]["messages"]["en"] == "age x of http://example.org/a"
