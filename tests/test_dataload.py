"""``load-data``: N-Quads/N-Triples read in parts, each materialised on its own, streamed to the bulk loader.

Loading in parts must give exactly the store that loading the file whole gives; a syntax error in any part names
the file's own line and leaves the store as it was; blank nodes are never split between parts.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from pvpp_kg.dataload import load_data, parts
from pvpp_kg.generate import generate_file
from pvpp_kg.settings import Settings
from tests.conftest import settings_env

CV = "http://data.europa.eu/m8g/"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dataload") / "tiny.nq"
    generate_file("tiny", path, seed=7, violations=0.05)
    return path


def _snapshot(data_dir: Path) -> ox.Store:
    public = data_dir / "public"
    return ox.Store.read_only(str(public / "snapshots" / (public / "CURRENT").read_text().strip()))


def _quads(data_dir: Path) -> tuple[int, set[str]]:
    """The store's size and its quads without blank nodes (the ontology's are named anew by every build)."""
    quads = [str(q) for q in _snapshot(data_dir)]
    return len(quads), {q for q in quads if "_:" not in q}


def test_parts_are_whole_lines_numbered_from_the_file(tiny: Path) -> None:
    found = list(parts(tiny, 4096))
    data = tiny.read_bytes()
    assert len(found) >= len(data) // 4096
    assert b"".join(p.data or b"" for p in found) == data
    line = 1
    for part in found:
        assert part.data is not None and part.data.endswith(b"\n")
        assert part.first_line == line
        line += part.data.count(b"\n")
    assert found[-1].end == len(data)


def test_turtle_and_files_with_blank_nodes_are_one_part(tmp_path: Path) -> None:
    ttl = tmp_path / "a.ttl"
    ttl.write_text("<urn:a> <urn:b> <urn:c> .\n" * 500, encoding="utf-8")
    blank = tmp_path / "b.nq"
    blank.write_text("_:x <urn:b> <urn:c> <urn:g> .\n" + "<urn:a> <urn:b> <urn:c> <urn:g> .\n" * 500,
                     encoding="utf-8")
    plain = tmp_path / "c.nq"
    plain.write_text("<urn:a> <urn:b> <urn:c> <urn:g> .\n" * 500, encoding="utf-8")
    assert [(p.data, p.end) for p in parts(ttl, 256)] == [(None, ttl.stat().st_size)]
    assert [(p.data, p.end) for p in parts(blank, 256)] == [(None, blank.stat().st_size)]
    assert len(list(parts(plain, 256))) == plain.stat().st_size // 256 + 1


def test_loading_in_parts_gives_the_store_loading_whole_gives(tiny: Path, tmp_path: Path) -> None:
    in_parts, whole = tmp_path / "parts", tmp_path / "whole"
    load_data(Settings(data_dir=in_parts, include_sample=False, load_part_bytes=4096), [tiny])
    load_data(Settings(data_dir=whole, include_sample=False, load_part_bytes=2**30), [tiny])
    assert len(list(parts(tiny, 4096))) > 100
    size, got = _quads(in_parts)
    assert (size, got) == _quads(whole)
    assert size > 2 * sum(1 for _ in tiny.open("rb"))
    # and it is materialised: every service owner became a cv:Participation node with role PS
    store = _snapshot(in_parts)
    owners = {(r[0], r[1]) for r in store.query(
        "SELECT ?s ?o WHERE { GRAPH ?g { ?s <https://w3id.org/pvpp/ontology#owner> ?o } }")}
    participations = {(r[0], r[1]) for r in store.query(f"""SELECT ?s ?o WHERE {{ GRAPH ?g {{
        ?s <{CV}hasParticipation> ?p . ?p a <{CV}Participation> ; <{CV}role> <https://w3id.org/pvpp/id/role/PS> ;
           <{CV}hasParticipant> ?o }} }}""")}
    assert len(owners) > 100
    assert owners <= participations


def test_blank_nodes_are_not_split_between_parts(tmp_path: Path) -> None:
    path = tmp_path / "blank.nq"
    filler = "".join(f"<urn:s{i}> <urn:p> \"{i}\" <urn:g> .\n" for i in range(300))
    path.write_text(f'_:x <urn:first> "a" <urn:g> .\n{filler}_:x <urn:last> "b" <urn:g> .\n', encoding="utf-8")
    data_dir = tmp_path / "store"
    load_data(Settings(data_dir=data_dir, include_sample=False, load_part_bytes=256), [path])
    rows = list(_snapshot(data_dir).query(
        "SELECT ?s WHERE { GRAPH <urn:g> { ?s <urn:first> \"a\" ; <urn:last> \"b\" } }"))
    assert len(rows) == 1 and isinstance(rows[0][0], ox.BlankNode)


def test_cli_shows_progress_and_a_late_syntax_error_names_the_file_line_and_changes_nothing(
        tiny: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "store", include_sample=False, load_part_bytes=4096)
    env = settings_env(settings)
    ok = subprocess.run([sys.executable, "-m", "pvpp_kg", "load-data", str(tiny)], env=env,
                        capture_output=True, text=True, timeout=180)
    assert ok.returncode == 0, ok.stderr
    assert "MB read and materialised" in ok.stderr and "compacting the store" in ok.stderr
    before = ((settings.data_dir / "public" / "CURRENT").read_text(), _quads(settings.data_dir))

    lines = tiny.read_text(encoding="utf-8").splitlines(keepends=True)
    bad_line = len(lines) - 40  # far past the first part
    lines.insert(bad_line - 1, "<urn:a> <urn:b> <not an iri> <urn:g> .\n")
    broken = tmp_path / "broken.nq"
    broken.write_text("".join(lines), encoding="utf-8")
    assert sum(1 for p in parts(broken, 4096) if p.first_line < bad_line) > 50
    out = subprocess.run([sys.executable, "-m", "pvpp_kg", "load-data", "--quiet", str(broken)], env=env,
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 2
    assert f"broken.nq:{bad_line}:" in out.stderr, out.stderr
    assert f"line {bad_line}" in out.stderr and "Traceback" not in out.stderr
    assert ((settings.data_dir / "public" / "CURRENT").read_text(), _quads(settings.data_dir)) == before


def test_cli_refuses_an_unknown_extension_before_writing(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("<urn:a> <urn:b> <urn:c> .\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "store", include_sample=False)
    out = subprocess.run([sys.executable, "-m", "pvpp_kg", "load-data", str(data)], env=settings_env(settings),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert f"{data}: unknown RDF file extension" in out.stderr and "Traceback" not in out.stderr
    assert not (settings.data_dir / "public" / "CURRENT").exists()  # not even the base store was built
