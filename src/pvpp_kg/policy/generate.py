"""Synthetic, policy-conforming PVPP datasets at any scale: ``pvpp-kg generate``.

Why a generator: the real register of services does not exist yet, but the store, the governance queries and the
benchmarks must be tried at the size of the whole public sector (~4,500 institutions, ~40,000 services). The data
uses exactly the terms of ``docs/model.md`` in their *source* form (``pvpp:owner``, ``pvpp:serviceManager`` …);
the load step materialises inverses, super-classes and ``cv:Participation`` nodes as for any submission.

Design:
- the real institutions come from ``data/institutions`` (:func:`pvpp_kg.policy.institutions.read_institutions`);
  generated bodies (state agencies under a ministry, municipal bodies under a municipality) are added to the
  ``graph/institutions`` graph; each institution's own data goes to ``graph/institution/{key}``;
- sizes live in ``data/generator/presets.json`` and word lists in ``data/generator/vocabulary.json``;
- output is streamed as N-Quads one institution at a time, so ``eu`` (~20 M triples) needs no more memory than
  ``tiny``; one :class:`random.Random` seeded from ``--seed`` drives every choice in a fixed order, so the bytes
  are identical for the same seed and preset;
- every service conforms to the policy rules (exactly one owner and one manager post, the post is in the owner
  institution with role PS and a holder, an lv title …) unless it was picked for a *violation*: with
  ``violations=RATE`` exactly ``round(RATE × services)`` services (at least one when RATE > 0) each break exactly
  one rule of :data:`RULES`, and the report lists the focus node and rule of each one.

Why one module of 500 lines: the whole generator is one seeded sequence of choices, and the byte-identical output
depends on their order; read top to bottom it is that sequence, split across files it would not be.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from rdflib import RDF, URIRef
from rdflib.namespace import ORG, XSD

from pvpp_kg.namespaces import GRAPH_INSTITUTIONS, ID, PVPP, institution_graph
from pvpp_kg.policy.institutions import read_institutions
from pvpp_kg.settings import PROJECT_ROOT

__all__ = ["RULES", "GenerationReport", "Preset", "generate", "load_presets", "resolve_preset"]

GENERATOR_DIR = PROJECT_ROOT / "data" / "generator"

P = str(PVPP)
I = str(ID)  # noqa: E741 - the id namespace, used in every IRI below
RDF_TYPE = str(RDF.type)
DCT = "http://purl.org/dc/terms/"
SKOS_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
ORG_ = str(ORG)
XSD_DECIMAL = str(XSD.decimal)
XSD_DURATION = str(XSD.duration)
XSD_BOOLEAN = str(XSD.boolean)

ILLUSTRATIVE = P + "illustrative"  # everything generated is invented: marked so no one takes it for policy

KIND_CLASS = {
    "individual-benefit": P + "IndividualBenefitService",
    "general-benefit": P + "GeneralBenefitService",
    "individual-use": P + "IndividualUseService",
    "shared": P + "SharedService",
}

#: rule id -> (what is broken, the property path a validator reports)
RULES: dict[str, tuple[str, str]] = {
    "service-owner": ("a service without pvpp:owner (exactly one is required)", P + "owner"),
    "service-manager": ("a service with two pvpp:serviceManager posts (exactly one is required)", P + "serviceManager"),
    "service-title-lv": ("a service without a dct:title in Latvian", DCT + "title"),
    "sla-availability": ("an SLA whose pvpp:availabilityTarget is above 100 %", P + "availabilityTarget"),
}


@dataclass(frozen=True)
class Preset:
    """One size of dataset (see ``data/generator/presets.json``)."""

    name: str
    generated_bodies: int
    services_per_institution: float
    max_services_per_institution: int
    services_per_manager_post: float
    resources_per_institution: float
    needs: int
    recipient_groups: int
    life_situations: int
    municipal_share: float


def load_presets(directory: Path = GENERATOR_DIR) -> dict[str, Preset]:
    raw = json.loads((directory / "presets.json").read_text(encoding="utf-8"))
    return {name: Preset(name=name, **values) for name, values in raw.items() if not name.startswith("_")}


def load_vocabulary(directory: Path = GENERATOR_DIR) -> dict[str, Any]:
    return json.loads((directory / "vocabulary.json").read_text(encoding="utf-8"))


# -- N-Quads writing -----------------------------------------------------------------------------------------

_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def _lit(value: str, lang: str | None = None, datatype: str | None = None) -> str:
    text = '"' + value.translate(_ESCAPES) + '"'
    if lang:
        return f"{text}@{lang}"
    if datatype:
        return f"{text}^^<{datatype}>"
    return text


class QuadWriter:
    """Buffers N-Quads lines and counts them; one ``graph`` at a time, set by the caller."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.count = 0
        self.graph = ""
        self._buf: list[str] = []

    def iri(self, s: str, p: str, o: str) -> None:
        self._buf.append(f"<{s}> <{p}> <{o}> <{self.graph}> .\n")

    def lit(self, s: str, p: str, value: str, lang: str | None = None, datatype: str | None = None) -> None:
        self._buf.append(f"<{s}> <{p}> {_lit(value, lang, datatype)} <{self.graph}> .\n")

    def flush(self) -> None:
        self.count += len(self._buf)
        self.out.write("".join(self._buf))
        self._buf.clear()


# -- the plan: institutions and how many services each has --------------------------------------------------


@dataclass
class Inst:
    key: str
    iri: str
    name_lv: str
    name_en: str
    kind: str  # ministry | municipality | state-body | municipal-body | other
    parent: str | None = None
    services: int = 0


@dataclass
class GenerationReport:
    """What was written: counts and the violations (empty when the data conforms)."""

    preset: str
    seed: int
    rate: float
    institutions: int = 0
    services: int = 0
    posts: int = 0
    resources: int = 0
    triples: int = 0
    seconds: float = 0.0
    violations: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        by_rule: dict[str, int] = {}
        for v in self.violations:
            by_rule[v["rule"]] = by_rule.get(v["rule"], 0) + 1
        return {
            "preset": self.preset,
            "seed": self.seed,
            "violation_rate": self.rate,
            "institutions": self.institutions,
            "services": self.services,
            "posts": self.posts,
            "resources": self.resources,
            "triples": self.triples,
            "rules": {k: {"description": d, "path": p} for k, (d, p) in RULES.items()},
            "violation_count": len(self.violations),
            "violations_by_rule": by_rule,
            "violations": self.violations,
        }


def _real_institutions(directory: Path) -> list[Inst]:
    """The current real institutions of the registry, in a stable order (former municipalities get no services)."""
    g = read_institutions(directory)
    kinds = {
        PVPP.Ministry: "ministry",
        PVPP.Novads: "municipality",
        PVPP.StateCity: "municipality",
        PVPP.OtherInstitution: "other",
    }
    out: list[Inst] = []
    for cls, kind in kinds.items():
        for node in g.subjects(RDF.type, cls):
            if (node, PVPP.validUntil, None) in g:
                continue
            key = str(g.value(node, URIRef(DCT + "identifier")))
            labels = {lbl.language: str(lbl) for lbl in g.objects(node, URIRef(SKOS_PREF))}
            parent = g.value(node, ORG.subOrganizationOf)
            out.append(
                Inst(key, str(node), labels["lv"], labels["en"], kind, str(parent) if parent is not None else None)
            )
    return sorted(out, key=lambda i: i.key)


def _services_count(rng: random.Random, preset: Preset, kind: str) -> int:
    """Skewed per-institution service counts: ministries and municipalities run more services than a school."""
    mean = preset.services_per_institution * {"ministry": 3.0, "municipality": 4.0}.get(kind, 1.0)
    n = int(rng.expovariate(1.0 / mean) + 0.5) if mean > 0 else 0
    return max(1, min(n, preset.max_services_per_institution * (3 if kind in ("ministry", "municipality") else 1)))


def _plan(rng: random.Random, preset: Preset, vocab: dict[str, Any], real: list[Inst]) -> list[Inst]:
    ministries = [i for i in real if i.kind == "ministry"]
    municipalities = [i for i in real if i.kind == "municipality"]
    generated: list[Inst] = []
    counters: dict[str, int] = {}
    for _ in range(preset.generated_bodies):
        municipal = rng.random() < preset.municipal_share
        parent = rng.choice(municipalities if municipal else ministries)
        types = vocab["municipal_body_types" if municipal else "state_body_types"]
        t_lv, t_en = rng.choice(types)
        n = counters[parent.key] = counters.get(parent.key, 0) + 1
        key = f"{parent.key}-iestade-{n}"
        generated.append(
            Inst(
                key,
                I + f"institution/{key}",
                f"{parent.name_lv} {t_lv} Nr. {n}",
                f"{parent.name_en} {t_en} No. {n}",
                "municipal-body" if municipal else "state-body",
                parent.iri,
            )
        )
    everyone = real + generated
    for inst in everyone:
        inst.services = _services_count(rng, preset, inst.kind)
    return everyone


# -- the generator ------------------------------------------------------------------------------------------


class _Generator:
    def __init__(
        self,
        preset: Preset,
        seed: int,
        rate: float,
        w: QuadWriter,
        vocab: dict[str, Any],
        institutions_dir: Path,
        progress: Callable[[str], None] | None,
    ) -> None:
        self.p, self.seed, self.rate, self.w, self.v = preset, seed, rate, w, vocab
        self.rng = random.Random(seed)
        self.progress = progress
        self.report = GenerationReport(preset.name, seed, rate)
        self.real = _real_institutions(institutions_dir)
        self.insts = _plan(self.rng, preset, vocab, self.real)
        self.person = 0
        kinds = vocab["kind_weights"]
        self.kind_names, self.kind_weights = list(kinds), list(kinds.values())

    # helpers ---------------------------------------------------------------------------------------------
    def _person(self) -> str:
        """A post holder: an opaque IRI only, as in the sample (what a person is lives in the restricted store)."""
        self.person += 1
        return I + f"person/p-{self.person:07d}"

    def _post(self, inst: Inst, local: str, role: str, label_lv: str, label_en: str) -> str:
        w = self.w
        post = I + f"post/{inst.key}/{local}"
        w.iri(post, RDF_TYPE, ORG_ + "Post")
        w.lit(post, ILLUSTRATIVE, "true", datatype=XSD_BOOLEAN)
        w.iri(post, ORG_ + "postIn", inst.iri)
        w.iri(post, ORG_ + "role", I + f"role/{role}")
        w.iri(post, ORG_ + "heldBy", self._person())
        w.lit(post, SKOS_PREF, label_lv, "lv")
        w.lit(post, SKOS_PREF, label_en, "en")
        self.report.posts += 1
        return post

    def _violations(self) -> dict[int, str]:
        total = sum(i.services for i in self.insts)
        if self.rate <= 0:
            return {}
        n = min(total, max(1, round(self.rate * total)))
        picked = sorted(self.rng.sample(range(total), n))
        rules = list(RULES)
        return {index: rules[k % len(rules)] for k, index in enumerate(picked)}

    # shared vocabularies -----------------------------------------------------------------------------------
    def _shared(self) -> None:
        """Needs (in their sector ministry's graph), recipient groups and life situations (in VARAM's graph)."""
        w, rng, v = self.w, self.rng, self.v
        ministries = [i for i in self.real if i.kind == "ministry"]
        self.needs: list[str] = []
        by_ministry: dict[str, list[tuple[str, str, str]]] = {}
        for n in range(self.p.needs):
            lv, en = v["needs"][n % len(v["needs"])]
            iri = I + f"need/n-{n + 1:05d}"
            self.needs.append(iri)
            by_ministry.setdefault(rng.choice(ministries).key, []).append((iri, lv, en))
        for key, needs in sorted(by_ministry.items()):
            w.graph = institution_graph(key)
            for iri, lv, en in needs:
                w.iri(iri, RDF_TYPE, P + "Need")
                w.lit(iri, ILLUSTRATIVE, "true", datatype=XSD_BOOLEAN)
                w.lit(iri, SKOS_PREF, f"{lv} {iri.rsplit('-', 1)[1]}", "lv")
                w.lit(iri, SKOS_PREF, f"{en} {iri.rsplit('-', 1)[1]}", "en")
        w.graph = institution_graph("varam")
        self.groups = []
        for n in range(self.p.recipient_groups):
            lv, en = v["recipient_groups"][n % len(v["recipient_groups"])]
            iri = I + f"recipient-group/g-{n + 1:04d}"
            self.groups.append(iri)
            w.iri(iri, RDF_TYPE, P + "RecipientGroup")
            w.lit(iri, ILLUSTRATIVE, "true", datatype=XSD_BOOLEAN)
            w.lit(iri, SKOS_PREF, f"{lv} ({n + 1})", "lv")
            w.lit(iri, SKOS_PREF, f"{en} ({n + 1})", "en")
            w.lit(iri, DCT + "identifier", f"recipient-group/g-{n + 1:04d}")  # a group is a foaf:Agent (CPSV-AP)
            w.lit(iri, DCT + "title", f"{lv} ({n + 1})", "lv")
        self.situations = []
        for n in range(self.p.life_situations):
            lv, en = v["life_situations"][n % len(v["life_situations"])]
            iri = I + f"life-situation/{1000 + n}"
            self.situations.append(iri)
            w.iri(iri, RDF_TYPE, P + "LifeSituation")
            w.lit(iri, ILLUSTRATIVE, "true", datatype=XSD_BOOLEAN)
            w.lit(iri, SKOS_PREF, f"{lv} ({n + 1})", "lv")
            w.lit(iri, SKOS_PREF, f"{en} ({n + 1})", "en")
            w.lit(iri, DCT + "identifier", f"life-situation/{1000 + n}")  # a cv:Event (CPSV-AP)
            w.lit(iri, DCT + "title", f"{lv} ({n + 1})", "lv")
        w.flush()

    def _registry_entry(self, inst: Inst) -> None:
        """A generated body in the institutions graph (real ones come from data/institutions)."""
        w = self.w
        w.graph = str(GRAPH_INSTITUTIONS)
        w.iri(inst.iri, RDF_TYPE, P + "OtherInstitution")
        w.lit(inst.iri, ILLUSTRATIVE, "true", datatype=XSD_BOOLEAN)
        w.lit(inst.iri, SKOS_PREF, inst.name_lv, "lv")
        w.lit(inst.iri, SKOS_PREF, inst.name_en, "en")
        w.lit(inst.iri, DCT + "identifier", inst.key)
        w.lit(inst.iri, DCT + "title", inst.name_lv, "lv")  # CPSV-AP: an agent has a title, a public
        w.iri(inst.iri, DCT + "spatial", self._location(inst))  # organisation the region it covers
        if inst.parent:
            w.iri(inst.iri, ORG_ + "subOrganizationOf", inst.parent)

    @staticmethod
    def _location(inst: Inst) -> str:
        """A municipal body covers its municipality's territory (``location/{key}``), a state body Latvia."""
        if inst.kind == "municipal-body" and inst.parent:
            return I + "location/" + inst.parent.rsplit("/", 1)[1]
        return I + "location/LVA"

    # one institution ---------------------------------------------------------------------------------------
    def _institution(self, inst: Inst, first_service: int, violations: dict[int, str]) -> None:
        w, rng, v, p = self.w, self.rng, self.v, self.p
        w.graph = institution_graph(inst.key)
        ipks = self._post(inst, "ipks", "IPKS", "Pakalpojumu kopuma vadītājs", "Service portfolio manager")
        irks = self._post(inst, "irks", "IRKS", "Resursu kopuma vadītājs", "Resource portfolio manager")
        w.iri(inst.iri, P + "servicePortfolioManager", ipks)
        w.iri(inst.iri, P + "resourcePortfolioManager", irks)

        resources: list[str] = []
        n_res = int(rng.expovariate(1.0 / p.resources_per_institution) + 0.5) if p.resources_per_institution else 0
        for r in range(1, min(n_res, 8) + 1):
            cls = rng.choice(sorted(v["resources"]))
            lv, en = rng.choice(v["resources"][cls])
            res = I + f"resource/{inst.key}/r-{r}"
            resources.append(res)
            w.iri(res, RDF_TYPE, P + cls)
            w.lit(res, ILLUSTRATIVE, "true", datatype=XSD_BOOLEAN)
            w.lit(res, DCT + "identifier", f"{inst.key}/r-{r}")
            w.lit(res, SKOS_PREF, f"{lv} {r} ({inst.name_lv})", "lv")  # PrefLabelShape: as the sample data
            w.lit(res, SKOS_PREF, f"{en} {r} ({inst.name_en})", "en")
            w.iri(res, P + "resourceOwner", inst.iri)
            manager = self._post(inst, f"rv-{r}", "RS", "Resursa vadītājs", "Resource manager")
            w.iri(res, P + "resourceManager", manager)
            for _ in range(rng.choice((0, 0, 1, 2))):
                w.iri(res, P + "resourceUser", rng.choice(self.insts).iri)
            self.report.resources += 1

        managers: list[str] = []
        for s in range(1, inst.services + 1):
            index = first_service + s - 1
            if not managers or rng.random() < 1.0 / p.services_per_manager_post:
                managers.append(
                    self._post(inst, f"pv-{len(managers) + 1}", "PS", "Pakalpojuma vadītājs", "Service manager")
                )
            self._service(inst, s, rng.choice(managers), resources, violations.get(index))
        self.report.institutions += 1
        w.flush()

    def _service(self, inst: Inst, s: int, manager: str, resources: list[str], violation: str | None) -> None:
        w, rng, v = self.w, self.rng, self.v
        kind = rng.choices(self.kind_names, self.kind_weights)[0]
        stem_lv, stem_en = rng.choice(v["service_stems"][kind])
        q_lv, q_en = rng.choice(v["service_qualifiers"])
        svc = I + f"service/{inst.key}/s-{s}"
        w.iri(svc, RDF_TYPE, KIND_CLASS[kind])
        w.lit(svc, ILLUSTRATIVE, "true", datatype=XSD_BOOLEAN)
        extra = rng.random()
        if extra < 0.05:
            w.iri(svc, RDF_TYPE, P + "SmartService")
        elif extra < 0.3:
            w.iri(svc, RDF_TYPE, P + "SimpleService")
        w.lit(svc, DCT + "identifier", f"{inst.key}/s-{s}")
        if violation != "service-title-lv":
            w.lit(svc, DCT + "title", f"{stem_lv}{q_lv}", "lv")
        w.lit(svc, DCT + "title", f"{stem_en}{q_en}", "en")
        w.lit(svc, DCT + "description", f"{stem_lv}{q_lv}. Pakalpojumu sniedz {inst.name_lv}.", "lv")
        if violation != "service-owner":
            w.iri(svc, P + "owner", inst.iri)
        w.iri(svc, P + "serviceManager", manager)
        if violation == "service-manager":
            second = self._post(inst, f"pv-x{s}", "PS", "Pakalpojuma vadītājs", "Service manager")
            w.iri(svc, P + "serviceManager", second)
        if rng.random() < 0.35:  # provided by someone else than the owner (delegated or shared provision)
            w.iri(svc, P + "provider", rng.choice(self.insts).iri)
        if kind == "individual-benefit":
            w.iri(svc, P + "recipient", rng.choice(self.groups))
        elif kind == "individual-use":
            w.iri(svc, P + "recipient", rng.choice(self.insts).iri)
        for need in rng.sample(self.needs, rng.choice((1, 1, 2))):
            w.iri(svc, P + "satisfiesNeed", need)
        if kind in ("individual-benefit", "general-benefit") and rng.random() < 0.4:
            w.iri(svc, P + "lifeSituation", rng.choice(self.situations))
        if resources and rng.random() < 0.6:
            w.iri(svc, P + "usesResource", rng.choice(resources))
        if kind in ("individual-use", "shared") or violation == "sla-availability":
            sla = I + f"sla/{inst.key}/s-{s}"
            w.iri(svc, P + "serviceLevelAgreement", sla)
            w.iri(sla, RDF_TYPE, P + "ServiceLevelAgreement")
            w.lit(sla, ILLUSTRATIVE, "true", datatype=XSD_BOOLEAN)
            w.lit(sla, SKOS_PREF, f"SLA: {stem_lv}{q_lv}", "lv")
            w.lit(sla, SKOS_PREF, f"SLA: {stem_en}{q_en}", "en")
            w.lit(sla, P + "serviceHours", rng.choice(v["service_hours"]))
            target = "120.0" if violation == "sla-availability" else rng.choice(("95.0", "99.0", "99.5", "99.9"))
            w.lit(sla, P + "availabilityTarget", target, datatype=XSD_DECIMAL)
            w.lit(sla, P + "reactionTime", rng.choice(v["reaction_times"]), datatype=XSD_DURATION)
            w.lit(sla, P + "resolutionTime", rng.choice(v["resolution_times"]), datatype=XSD_DURATION)
            if violation == "sla-availability":
                self.report.violations.append(
                    {"rule": violation, "focus": sla, "service": svc, "path": RULES[violation][1]}
                )
        if violation and violation != "sla-availability":
            self.report.violations.append(
                {"rule": violation, "focus": svc, "service": svc, "path": RULES[violation][1]}
            )
        self.report.services += 1

    def run(self) -> GenerationReport:
        started = time.perf_counter()
        violations = self._violations()
        self._shared()
        for inst in self.insts:
            if inst.kind in ("state-body", "municipal-body"):
                self._registry_entry(inst)
        self.w.flush()
        first, total = 0, len(self.insts)
        for n, inst in enumerate(self.insts, 1):
            self._institution(inst, first, violations)
            first += inst.services
            if self.progress and (n % 500 == 0 or n == total):
                rate = self.w.count / max(time.perf_counter() - started, 1e-9)
                self.progress(
                    f"generate {self.p.name}: {n:,}/{total:,} institutions, {self.report.services:,} "
                    f"services, {self.w.count:,} quads ({rate:,.0f}/s)"
                )
        self.report.triples = self.w.count
        self.report.seconds = time.perf_counter() - started
        return self.report


def resolve_preset(preset: str | Preset, *, violations: float = 0.0, scale: float = 1.0) -> Preset:
    """The preset to generate, scaled; ``ValueError`` for an unknown name, a rate outside [0, 1] or a scale
    outside (0, 100] — before anything is written."""
    if isinstance(preset, str):
        presets = load_presets()
        if preset not in presets:
            raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(presets)}")
        preset = presets[preset]
    if not 0.0 <= violations <= 1.0 or math.isnan(violations):
        raise ValueError("the violation rate must be between 0 and 1")
    if not 0.0 < scale <= 100.0 or math.isnan(scale):
        raise ValueError("the scale must be above 0 and at most 100")
    if scale != 1.0:
        preset = dataclasses.replace(
            preset, name=f"{preset.name}×{scale:g}", generated_bodies=round(preset.generated_bodies * scale)
        )
    return preset


def generate(
    preset: str | Preset,
    out: IO[str],
    *,
    seed: int = 1,
    violations: float = 0.0,
    scale: float = 1.0,
    institutions_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> GenerationReport:
    """Write a dataset as N-Quads to ``out``; return the counts and the violations it carries.

    ``scale`` multiplies the preset's generated bodies (the real institutions stay): a dataset between two
    presets, such as the 1.1 M-triple graph issue 7's load target names (``benchmarks/README.md``)."""
    preset = resolve_preset(preset, violations=violations, scale=scale)
    gen = _Generator(
        preset,
        seed,
        violations,
        QuadWriter(out),
        load_vocabulary(),
        institutions_dir or PROJECT_ROOT / "data" / "institutions",
        progress,
    )
    return gen.run()


def generate_file(
    preset: str,
    path: Path,
    *,
    seed: int = 1,
    violations: float = 0.0,
    scale: float = 1.0,
    progress: Callable[[str], None] | None = None,
) -> GenerationReport:
    """Generate into ``path``; with violations also write ``{path}.violations.json`` (focus nodes and rules).
    Bad arguments are refused before ``path`` is created or emptied; so is a name that promises another format
    (N-Quads written to ``x.ttl`` is read by a Turtle parser as a syntax error)."""
    if path.suffix.lower() not in (".nq", ".nquads"):
        raise ValueError(f"{path}: generate writes N-Quads; name the file *.nq")
    chosen = resolve_preset(preset, violations=violations, scale=scale)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        report = generate(chosen, fh, seed=seed, violations=violations, progress=progress)
    sidecar = violations_path(path)
    if violations > 0:
        sidecar.write_text(json.dumps(report.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    elif sidecar.exists():
        sidecar.unlink()
    return report


def violations_path(path: Path) -> Path:
    return path.with_name(path.name + ".violations.json")


def stderr_progress(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
