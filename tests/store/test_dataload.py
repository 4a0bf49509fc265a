"""``load-data``: files parsed as a stream, each quad followed by what it entails, straight into the bulk loader.

The streamed rules (:class:`pvpp_kg.store.materialise.Entailment`) must give exactly the quads the rules' SPARQL
form gives (``tests/store/materialise_reference.py``), on generated data, on every project source and on the
edge cases the updates handle by SPARQL's own rules (blank nodes, literals, the default graph). A syntax error
anywhere names the file's line and leaves the store as it was.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from pvpp_kg.policy.generate import generate_file
from pvpp_kg.settings import Settings
from pvpp_kg.store.dataload import load_data, read_quads
from pvpp_kg.store.loader import _load_sources, ontology_graph
from pvpp_kg.store.materialise import Entailment, Rules
from pvpp_kg.store.sources import public_sources
from tests.conftest import settings_env
from tests.store.materialise_reference import materialisation_updates

CV = "http://data.europa.eu/m8g/"
PVPP = "https://w3id.org/pvpp/ontology#"
ROLE_PS = "https://w3id.org/pvpp/id/role/PS"
GRAPH = "https://w3id.org/pvpp/graph/institutions"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dataload") / "tiny.nq"
    generate_file("tiny", path, seed=7, violations=0.05)
    return path


@pytest.fixture(scope="module")
def entailment() -> Entailment:
    return Entailment(Rules.of(ontology_graph(Settings())))


def _snapshot(data_dir: Path) -> ox.Store:
    public = data_dir / "public"
    return ox.Store.read_only(str(public / "snapshots" / (public / "CURRENT").read_text().strip()))


def _canonical(quads: Iterator[ox.Quad] | ox.Store) -> tuple[int, set[str]]:
    """Size and the quads without blank nodes (every parse names them anew), as text."""
    found = {str(q) for q in quads}
    return len(found), {q for q in found if "_:" not in q}


def _updated(fill: Callable[[ox.Store], None]) -> ox.Store:
    """The reference: the rules as SPARQL updates, run in an in-memory store."""
    mem = ox.Store()
    fill(mem)
    for update in materialisation_updates(ontology_graph(Settings())):
        mem.update(update)
    return mem


def _both_forms(entailment: Entailment, files: list[Path]) -> tuple[tuple[int, set[str]], tuple[int, set[str]]]:
    """(streamed rules, SPARQL updates) on the same files."""
    streamed = ox.Store()
    streamed.bulk_extend(entailment.quads(read_quads(files, GRAPH)))

    def fill(mem: ox.Store) -> None:
        mem.bulk_extend(read_quads(files, GRAPH))

    return _canonical(streamed), _canonical(_updated(fill))


def test_streamed_rules_give_the_updates_quads_on_generated_data(entailment: Entailment, tiny: Path) -> None:
    streamed, updates = _both_forms(entailment, [tiny])
    assert streamed == updates
    assert streamed[0] > 2 * sum(1 for _ in tiny.open("rb"))  # it did entail: participations, types, inverses


def test_streamed_rules_give_the_updates_quads_on_every_project_source(entailment: Entailment) -> None:
    sources = list(public_sources(Settings()))
    mem = ox.Store()
    _load_sources(mem, sources)
    streamed = ox.Store()
    streamed.bulk_extend(entailment.quads(iter(mem)))
    assert _canonical(streamed) == _canonical(_updated(lambda m: m.bulk_extend(iter(mem))))
    assert len(streamed) > len(mem) + 1000


def test_streamed_rules_follow_sparql_on_blank_nodes_literals_and_the_default_graph(
    entailment: Entailment, tmp_path: Path
) -> None:
    path = tmp_path / "edge.nq"
    path.write_text(
        f"<urn:svc1> <{PVPP}owner> <urn:inst1> <urn:g> .\n"  # a participation, an inverse, a super-property
        f"_:svc <{PVPP}owner> <urn:inst2> <urn:g> .\n"  # blank subject: STR() unbound, no participation node
        f"<urn:svc3> <{PVPP}owner> _:inst <urn:g> .\n"  # blank participant: likewise
        f'<urn:svc4> <{PVPP}owner> "not an IRI" <urn:g> .\n'  # literal participant: no inverse, no cv:participates
        f"<urn:svc5> <{PVPP}owner> <urn:inst5> .\n",  # default graph: goes to GRAPH, then entailed there
        encoding="utf-8",
    )
    (streamed_size, streamed), (updates_size, updates) = _both_forms(entailment, [path])
    assert (streamed_size, streamed) == (updates_size, updates)
    assert f"<urn:inst1> <{PVPP}ownsService> <urn:svc1> <urn:g>" in streamed
    assert f"<urn:svc1> <{CV}hasCompetentAuthority> <urn:inst1> <urn:g>" in streamed
    assert f"<urn:inst5> <{PVPP}ownsService> <urn:svc5> <{GRAPH}>" in streamed
    store = ox.Store()
    store.bulk_extend(entailment.quads(read_quads([path], GRAPH)))
    participants = {
        str(r[0])
        for r in store.query(f"SELECT ?a WHERE {{ GRAPH ?g {{ ?p a <{CV}Participation> ; <{CV}hasParticipant> ?a }} }}")
    }
    assert participants == {"<urn:inst1>", '"not an IRI"', "<urn:inst5>"}
    assert {str(r[0]) for r in store.query(f"SELECT ?x WHERE {{ GRAPH ?g {{ ?x <{CV}participates> ?p }} }}")} == {
        "<urn:inst1>",
        "<urn:inst5>",
    }


def test_load_data_materialises(tiny: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "store"
    load_data(Settings(data_dir=data_dir, include_sample=False), [tiny])
    store = _snapshot(data_dir)
    owners = {(r[0], r[1]) for r in store.query(f"SELECT ?s ?o WHERE {{ GRAPH ?g {{ ?s <{PVPP}owner> ?o }} }}")}
    participations = {
        (r[0], r[1])
        for r in store.query(f"""SELECT ?s ?o WHERE {{ GRAPH ?g {{
        ?s <{CV}hasParticipation> ?p . ?p a <{CV}Participation> ; <{CV}role> <{ROLE_PS}> ;
           <{CV}hasParticipant> ?o }} }}""")
    }
    assert len(owners) > 100
    assert owners <= participations


def test_blank_nodes_are_one_node_within_a_file_and_distinct_between_files(tmp_path: Path) -> None:
    filler = "".join(f'<urn:s{i}> <urn:p> "{i}" <urn:g> .\n' for i in range(300))
    first, second = tmp_path / "a.nq", tmp_path / "b.nq"
    first.write_text(f'_:x <urn:first> "a" <urn:g> .\n{filler}_:x <urn:last> "b" <urn:g> .\n', encoding="utf-8")
    second.write_text('_:x <urn:first> "c" <urn:g> .\n', encoding="utf-8")
    data_dir = tmp_path / "store"
    load_data(Settings(data_dir=data_dir, include_sample=False), [first, second])
    store = _snapshot(data_dir)
    rows = list(store.query('SELECT ?s WHERE { GRAPH <urn:g> { ?s <urn:first> "a" ; <urn:last> "b" } }'))
    assert len(rows) == 1 and isinstance(rows[0][0], ox.BlankNode)
    assert len(list(store.query("SELECT ?s WHERE { GRAPH <urn:g> { ?s <urn:first> ?v } }"))) == 2
    assert not list(store.query('SELECT ?s WHERE { GRAPH <urn:g> { ?s <urn:first> "c" ; <urn:last> ?b } }'))


def test_cli_shows_progress_and_a_late_syntax_error_names_the_file_line_and_changes_nothing(
    tiny: Path, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "store", include_sample=False)
    env = settings_env(settings)
    ok = subprocess.run(
        [sys.executable, "-m", "pvpp_kg", "load-data", str(tiny)], env=env, capture_output=True, text=True, timeout=180
    )
    assert ok.returncode == 0, ok.stderr
    assert "MB read and materialised" in ok.stderr and "compacting the store" in ok.stderr
    loaded = _snapshot(settings.data_dir)
    graphs = len(list(loaded.named_graphs()))
    assert graphs > 50 and f"{graphs:,} graphs, {len(loaded):,} triples" in ok.stdout
    before = ((settings.data_dir / "public" / "CURRENT").read_text(), _canonical(_snapshot(settings.data_dir)))

    lines = tiny.read_text(encoding="utf-8").splitlines(keepends=True)
    bad_line = len(lines) - 40  # far into the file, after thousands of quads were read and entailed
    assert bad_line > 3000
    lines.insert(bad_line - 1, "<urn:a> <urn:b> <not an iri> <urn:g> .\n")
    broken = tmp_path / "broken.nq"
    broken.write_text("".join(lines), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "pvpp_kg", "load-data", "--quiet", str(broken)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 2
    assert f"broken.nq:{bad_line}:" in out.stderr, out.stderr
    assert f"line {bad_line}" in out.stderr and "Traceback" not in out.stderr
    assert ((settings.data_dir / "public" / "CURRENT").read_text(), _canonical(_snapshot(settings.data_dir))) == before


def test_cli_refuses_an_unknown_extension_before_writing(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("<urn:a> <urn:b> <urn:c> .\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "store", include_sample=False)
    out = subprocess.run(
        [sys.executable, "-m", "pvpp_kg", "load-data", str(data)],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert f"{data}: unknown RDF file extension" in out.stderr and "Traceback" not in out.stderr
    assert not (settings.data_dir / "public" / "CURRENT").exists()  # not even the base store was built


def test_triples_go_to_the_graph_named_for_them(tmp_path: Path) -> None:
    """Turtle has no graphs: with --graph its triples go there (an institution's data, which its next submission
    replaces), without it the file is refused (exit 2) rather than mixed into the shared registry graph."""
    data = tmp_path / "cesu.ttl"
    data.write_text(f"<urn:svc> <{PVPP}owner> <urn:inst> .\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "store", include_sample=False)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pvpp_kg", "load-data", "--quiet", *args, str(data)],
            env=settings_env(settings),
            capture_output=True,
            text=True,
            timeout=180,
        )

    bad = cli("--graph", "not an iri")
    assert bad.returncode == 2 and "--graph 'not an iri' is not an absolute IRI" in bad.stderr
    refused = cli()
    assert refused.returncode == 2 and f"{data}: holds triples without a named graph" in refused.stderr
    assert not (settings.data_dir / "public" / "CURRENT").exists()  # refused before the store was built
    graph = "https://w3id.org/pvpp/graph/institution/cesu-novads"
    assert cli("--graph", graph).returncode == 0
    store = _snapshot(settings.data_dir)
    rows = list(store.query(f"SELECT ?g WHERE {{ GRAPH ?g {{ <urn:svc> <{PVPP}owner> <urn:inst> }} }}"))
    assert [str(r[0]) for r in rows] == [f"<{graph}>"]


@pytest.mark.parametrize(
    "statements",
    [
        # a post's holder is a person whatever its IRI
        "<https://w3id.org/pvpp/id/post/zz/p> <http://www.w3.org/ns/org#heldBy> <urn:x:holder> {g} .\n"
        '<urn:x:holder> <http://schema.org/name> "Anna Bērziņa" {g} .\n',
        # a node under id/person/ is one even when nothing links to it; any text of theirs names them
        '<https://w3id.org/pvpp/id/person/zz-9> <http://www.w3.org/2000/01/rdf-schema#comment> "Anna Bērziņa" {g} .\n',
    ],
    ids=["holder-name", "person-comment"],
)
def test_people_s_names_are_refused_and_nothing_is_loaded(tmp_path: Path, statements: str) -> None:
    """The public store never holds people's names or contacts: a dataset stating one is refused (exit 2, naming
    the triple) and the store keeps what it had."""
    data = tmp_path / "names.nq"
    graph = "https://w3id.org/pvpp/graph/institution/zz"
    data.write_text(statements.format(g=f"<{graph}>"), encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "store", include_sample=False)
    out = subprocess.run(
        [sys.executable, "-m", "pvpp_kg", "load-data", "--quiet", str(data)],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 2, out.stderr
    assert f"{data}: hold people's names or contact data" in out.stderr and "Anna Bērziņa" in out.stderr
    store = _snapshot(settings.data_dir)
    assert not bool(store.query(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"))
