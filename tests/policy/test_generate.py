"""The synthetic dataset generator: deterministic, the tiny preset's size, conforming, or carrying known violations.

Conformance is checked with SPARQL over the *loaded* store (after materialisation), the way the governance
queries will see the data: exactly one owner and one manager post per service, the manager post is a PS post of
the owner institution held by someone, every service has an lv title, SLA targets are percentages.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from pvpp_kg.cli import main
from pvpp_kg.policy.generate import RULES, generate, generate_file, load_presets, violations_path
from pvpp_kg.settings import Settings
from pvpp_kg.store.dataload import load_data

PREFIXES = """PREFIX pvpp: <https://w3id.org/pvpp/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX cpsv: <http://purl.org/vocab/cpsv#>
PREFIX cv: <http://data.europa.eu/m8g/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""

#: rule -> SPARQL selecting the focus nodes that break it (the data is conforming when every one is empty)
RULE_QUERIES = {
    "service-owner": """SELECT ?focus WHERE { ?focus a pvpp:Service . OPTIONAL { ?focus pvpp:owner ?o } }
                        GROUP BY ?focus HAVING (COUNT(DISTINCT ?o) != 1)""",
    "service-manager": """SELECT ?focus WHERE { ?focus a pvpp:Service . OPTIONAL { ?focus pvpp:serviceManager ?m } }
                          GROUP BY ?focus HAVING (COUNT(DISTINCT ?m) != 1)""",
    "service-title-lv": """SELECT ?focus WHERE { ?focus a pvpp:Service .
                           MINUS { ?focus dct:title ?t FILTER(LANG(?t) = "lv") } }""",
    "sla-availability": """SELECT ?focus WHERE { ?focus pvpp:availabilityTarget ?v FILTER(?v < 0 || ?v > 100) }""",
}

#: further policy rules the generated data always keeps (no violation kind breaks them)
ALWAYS = {
    "manager post is a PS post of the owner, held by someone": """SELECT ?s WHERE {
        ?s pvpp:owner ?inst ; pvpp:serviceManager ?post .
        MINUS { ?post a org:Post ; org:postIn ?inst ; org:role <https://w3id.org/pvpp/id/role/PS> ;
                      org:heldBy ?person } }""",
    "owner without a service portfolio manager (IPKS)": """SELECT DISTINCT ?inst WHERE { ?s pvpp:owner ?inst .
        MINUS { ?inst pvpp:servicePortfolioManager ?p . ?p org:role <https://w3id.org/pvpp/id/role/IPKS> } }""",
    "resource without exactly one manager post": """SELECT ?r WHERE { ?r pvpp:resourceOwner ?i .
        OPTIONAL { ?r pvpp:resourceManager ?m } } GROUP BY ?r HAVING (COUNT(DISTINCT ?m) != 1)""",
    "service not classified by exactly two kind concepts (leaf + group)": """SELECT ?s WHERE {
        ?s a pvpp:Service . OPTIONAL { ?s cv:isClassifiedBy ?k } } GROUP BY ?s HAVING (COUNT(DISTINCT ?k) != 2)""",
    "resource or SLA without a Latvian and an English preferred label (PrefLabelShape)": """SELECT ?r WHERE {
        { ?r pvpp:resourceOwner ?i } UNION { ?r a pvpp:ServiceLevelAgreement }
        FILTER (NOT EXISTS { ?r skos:prefLabel ?lv FILTER (LANG(?lv) = "lv") }
                || NOT EXISTS { ?r skos:prefLabel ?en FILTER (LANG(?en) = "en") }) }""",
    "service without an owner participation (PS)": """SELECT ?s WHERE { ?s pvpp:owner ?o .
        MINUS { ?s cv:hasParticipation ?p . ?p cv:role <https://w3id.org/pvpp/id/role/PS> ;
                   cv:hasParticipant ?o } }""",
}


def _text(preset: str = "tiny", **kwargs: object) -> str:
    buf = io.StringIO()
    generate(preset, buf, **kwargs)  # type: ignore[arg-type]
    return buf.getvalue()


def _loaded(tmp_path: Path, nq: Path) -> ox.Store:
    data_dir = tmp_path / "store"
    load_data(Settings(data_dir=data_dir, include_sample=False), [nq])
    version = (data_dir / "public" / "CURRENT").read_text().strip()
    return ox.Store.read_only(str(data_dir / "public" / "snapshots" / version))


def _focus(store: ox.Store, query: str) -> set[str]:
    rows = store.query(PREFIXES + query, use_default_graph_as_union=True)
    return {row[0].value for row in rows}  # type: ignore[union-attr]


def test_same_seed_same_bytes_other_seed_other_data() -> None:
    assert _text(seed=3) == _text(seed=3)
    assert _text(seed=3) != _text(seed=4)
    assert _text(seed=3, violations=0.1) == _text(seed=3, violations=0.1)


def test_tiny_counts() -> None:
    report = generate("tiny", io.StringIO(), seed=1)
    preset = load_presets()["tiny"]
    real_current = 15 + 9 + 42  # 14 ministries + VK, 9 agencies, the 42 current municipalities
    assert report.institutions == real_current + preset.generated_bodies
    assert 100 <= report.services <= 250
    assert report.posts >= report.institutions * 2  # every institution has its IPKS and IRKS posts
    assert 2_000 <= report.triples <= 8_000
    assert report.violations == []


def test_national_preset_is_national_sized() -> None:
    """~4,500 institutions and ~40,000 services (streamed to nowhere: this is about 1 s)."""
    report = generate("national", io.StringIO(), seed=1)
    assert 4_400 <= report.institutions <= 4_600
    assert 38_000 <= report.services <= 42_000


def test_every_kind_and_the_terms_of_the_model() -> None:
    text = _text(seed=2)
    for cls in (
        "IndividualBenefitService",
        "GeneralBenefitService",
        "IndividualUseService",
        "SharedService",
        "SmartService",
        "SimpleService",
        "ServiceLevelAgreement",
        "Need",
        "RecipientGroup",
        "LifeSituation",
    ):
        assert f"<https://w3id.org/pvpp/ontology#{cls}>" in text, cls
    assert "<https://w3id.org/pvpp/id/institution/varam>" in text  # real institutions
    assert "<https://w3id.org/pvpp/graph/institution/vsaa>" in text  # one graph per institution
    assert "-iestade-" in text  # generated bodies
    ox.parse(text.encode(), format=ox.RdfFormat.N_QUADS)  # valid N-Quads


@pytest.mark.slow
def test_tiny_conforms_to_the_policy_rules(tmp_path: Path) -> None:
    generate_file("tiny", tmp_path / "tiny.nq", seed=5)
    assert not violations_path(tmp_path / "tiny.nq").exists()
    store = _loaded(tmp_path, tmp_path / "tiny.nq")
    assert _focus(store, "SELECT ?s WHERE { ?s a pvpp:Service }"), "no services loaded"
    for rule, query in {**RULE_QUERIES, **ALWAYS}.items():
        assert _focus(store, query) == set(), rule


@pytest.mark.slow
def test_violations_are_exactly_the_promised_ones(tmp_path: Path) -> None:
    out = tmp_path / "bad.nq"
    report = generate_file("tiny", out, seed=5, violations=0.1)
    sidecar = json.loads(violations_path(out).read_text(encoding="utf-8"))
    assert sidecar["violation_count"] == len(sidecar["violations"]) == round(0.1 * report.services)
    assert set(sidecar["violations_by_rule"]) == set(RULES)  # every rule is exercised at this rate
    store = _loaded(tmp_path, out)
    for rule, query in RULE_QUERIES.items():
        promised = {v["focus"] for v in sidecar["violations"] if v["rule"] == rule}
        assert _focus(store, query) == promised, rule
    for rule, query in ALWAYS.items():
        if rule.startswith("owner without"):  # a service without owner has no owner to check
            continue
        found = _focus(store, query)
        assert found == set(), rule


def test_cli_generate_and_bad_preset(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "generate",
            "--preset",
            "tiny",
            "--seed",
            "9",
            "--violations",
            "0.05",
            "--out",
            str(tmp_path / "t.nq"),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "t.nq").read_text(encoding="utf-8") == _text(seed=9, violations=0.05)
    assert violations_path(tmp_path / "t.nq").exists()
    bad = runner.invoke(main, ["generate", "--preset", "galactic", "--out", str(tmp_path / "x.nq")])
    assert bad.exit_code == 2 and "unknown preset" in bad.output


def test_cli_generate_scale(tmp_path: Path) -> None:
    """--scale multiplies the generated bodies and keeps the real institutions; a scale of 0 is refused."""
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "generate",
            "--preset",
            "tiny",
            "--scale",
            "2.5",
            "--violations",
            "0.1",
            "--out",
            str(tmp_path / "t.nq"),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    tiny = generate("tiny", io.StringIO(), seed=1)
    assert f"{tiny.institutions + 18:,} institutions" in result.output  # 12 generated bodies become 30
    assert json.loads(violations_path(tmp_path / "t.nq").read_text(encoding="utf-8"))["preset"] == "tiny×2.5"
    bad = runner.invoke(main, ["generate", "--preset", "tiny", "--scale", "0", "--out", str(tmp_path / "x.nq")])
    assert bad.exit_code == 2 and "scale must be above 0" in bad.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", "galactic"], "unknown preset"),
        (["--violations", "2"], "violation rate"),
        (["--scale", "-1"], "scale must be above 0"),
    ],
)
def test_cli_generate_refuses_before_touching_the_output(tmp_path: Path, args: list[str], message: str) -> None:
    """A refused run neither creates the output file nor empties an existing one."""
    runner = CliRunner()
    fresh, existing = tmp_path / "new.nq", tmp_path / "old.nq"
    existing.write_text("<urn:a> <urn:b> <urn:c> .\n", encoding="utf-8")
    for out in (fresh, existing):
        result = runner.invoke(main, ["generate", "--preset", "tiny", *args, "--out", str(out), "--quiet"])
        assert result.exit_code == 2 and message in result.output
    assert not fresh.exists()
    assert existing.read_text(encoding="utf-8") == "<urn:a> <urn:b> <urn:c> .\n"


def test_cli_generate_refuses_a_file_name_of_another_format(tmp_path: Path) -> None:
    """N-Quads in x.ttl would be a Turtle syntax error for whoever reads it: refused with exit 2, nothing written."""
    result = CliRunner().invoke(main, ["generate", "--out", str(tmp_path / "x.ttl"), "--quiet"])
    assert result.exit_code == 2 and "generate writes N-Quads; name the file *.nq" in result.output
    assert not (tmp_path / "x.ttl").exists()
