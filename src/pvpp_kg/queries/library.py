"""The governance query library: ``queries/*.rq`` files with a metadata header (format in ``queries/README.md``).

Why the header lives in the ``.rq`` file: the same file is the YASGUI example tab, the REST endpoint
``/api/queries/{name}``, the OpenAPI documentation and a SPARQLWrapper query, so one text must carry all of it.

Parameters are never spliced into query text. Each one is validated by its type and bound as an RDF term
(SEP-0007 substitution in the embedded store, a VALUES block on a remote store), so a value such as
``x> } DROP ALL #`` is a 400, not a query. Results are kept per data version: the cache key includes
``backend.version()``, which changes on every write, and the whole cache is dropped when it does.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pvpp_kg.errors import BadRequest
from pvpp_kg.formats import Format
from pvpp_kg.namespaces import LANGS
from pvpp_kg.store.backend import Backend, Substitution

XSD = "http://www.w3.org/2001/XMLSchema#"
ID = "https://w3id.org/pvpp/id/"

_HEADER = re.compile(r"^#\s*([a-z]+)(?:\.([A-Za-z_][A-Za-z0-9_]*))?(?:@([a-z]{2}))?\s*:\s*(.*)$")
_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`\x00-\x20\x7f]+$")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_INTEGER = re.compile(r"^[+-]?[0-9]{1,18}$")
_DECIMAL = re.compile(r"^[+-]?(?:[0-9]{1,18}(?:\.[0-9]{0,18})?|\.[0-9]{1,18})$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")
_MAX_STRING = 200


@dataclass(frozen=True)
class ConceptType:
    """A parameter type whose values are the keys of one IRI family, e.g. ``role`` → ``id/role/{code}``."""

    base: str
    pattern: re.Pattern[str]
    aliases: Mapping[str, str] = field(default_factory=dict)
    description: str = ""

    def to_iri(self, value: str) -> str | None:
        key = value[len(self.base) :] if value.startswith(self.base) else value
        key = self.aliases.get(key.upper(), self.aliases.get(key, key))
        return self.base + key if self.pattern.match(key) else None


_ROLE_CODES = ("VVI", "NVI", "PVI", "IPKS", "PS", "PSn", "PSa", "IRKS", "RS", "RL")
CONCEPT_TYPES: dict[str, ConceptType] = {
    "task": ConceptType(
        ID + "task/",
        re.compile(r"^PU[1-3]-[0-9]{1,2}$"),
        {f"pu{g}-{n}": f"PU{g}-{n}" for g in (1, 2, 3) for n in range(1, 24)},
        "task notation PU1-1 … PU3-4, or the task IRI",
    ),
    "task-group": ConceptType(
        ID + "taskgroup/", re.compile(r"^PU[1-3]$"), {"pu1": "PU1", "pu2": "PU2", "pu3": "PU3"}, "PU1, PU2 or PU3"
    ),
    "role": ConceptType(
        ID + "role/",
        re.compile("^(" + "|".join(_ROLE_CODES) + ")$"),
        {**{f"R{i + 1}": c for i, c in enumerate(_ROLE_CODES)}, **{c.upper(): c for c in _ROLE_CODES}},
        "role code (VVI … RL) or R1 … R10, or the role IRI",
    ),
    "institution": ConceptType(ID + "institution/", _SLUG, {}, "institution key (e.g. vsaa, riga) or IRI"),
    "scale": ConceptType(
        ID + "scale/",
        re.compile(r"^(state|sector|municipal|institution|service|resource)$"),
        {},
        "state, sector, municipal, institution, service or resource",
    ),
    "level": ConceptType(
        ID + "level/", re.compile(r"^(policy|core|provisioning)$"), {}, "policy, core or provisioning"
    ),
    "kind": ConceptType(
        ID + "kind/",
        re.compile(r"^(public|individual-benefit|general-benefit|inter-institutional|individual-use|shared)$"),
        {},
        "service kind key",
    ),
    "reading": ConceptType(
        ID + "reading/", re.compile(r"^(seed|seed-shift|inferred)$"), {}, "seed, seed-shift or inferred"
    ),
    "responsibility": ConceptType(ID + "responsibility/", re.compile(r"^[AL]$"), {"a": "A", "l": "L"}, "A or L"),
    "track": ConceptType(ID + "track/", re.compile(r"^(services|no-services)$"), {}, "services or no-services"),
    "metric": ConceptType(ID + "metric/", _SLUG, {}, "compliance metric key (e.g. service-owner, needs) or IRI"),
}
SCALAR_TYPES = ("iri", "string", "integer", "decimal", "date", "boolean", "language")
PARAM_TYPES = (*SCALAR_TYPES, *CONCEPT_TYPES)
_OPENAPI_SCHEMA: dict[str, dict[str, str]] = {
    "iri": {"type": "string", "format": "iri"},
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "decimal": {"type": "number"},
    "date": {"type": "string", "format": "date"},
    "boolean": {"type": "boolean"},
    "language": {"type": "string"},
}


@dataclass(frozen=True)
class Parameter:
    """One query parameter: it binds the SPARQL variable of the same name."""

    name: str
    type: str
    default: str | None  # None: optional, the variable stays unbound (no restriction)
    example: str
    description: dict[str, str] = field(default_factory=dict)

    def description_in(self, lang: str) -> str:
        return self.description.get(lang) or self.description.get("en") or self.name

    def bind(self, raw: str) -> Substitution:
        """Validate ``raw`` against the type and return it as an RDF term; BadRequest when it does not fit."""
        value = raw.strip()
        bad = BadRequest(
            f"parameter {self.name!r}: {raw!r} is not a valid {self.type}"
            + (f" ({CONCEPT_TYPES[self.type].description})" if self.type in CONCEPT_TYPES else "")
        )
        if self.type in CONCEPT_TYPES:
            iri = CONCEPT_TYPES[self.type].to_iri(value)
            if iri is None:
                raise bad
            return (self.name, "iri", iri, None)
        if self.type == "iri":
            if len(value) > 2000 or not _IRI.match(value):
                raise bad
            return (self.name, "iri", value, None)
        if self.type == "string":
            if len(raw) > _MAX_STRING or any(ord(c) < 0x20 and c not in "\t" for c in raw):
                raise bad
            return (self.name, "typed", raw, XSD + "string")
        if self.type == "integer":
            if not _INTEGER.match(value):
                raise bad
            return (self.name, "typed", str(int(value)), XSD + "integer")
        if self.type == "decimal":
            if not _DECIMAL.match(value):
                raise bad
            return (self.name, "typed", value.lstrip("+"), XSD + "decimal")
        if self.type == "date":
            if value == "today":
                value = date.today().isoformat()
            if not _DATE.match(value):
                raise bad
            try:
                date.fromisoformat(value)
            except ValueError:
                raise bad from None
            return (self.name, "typed", value, XSD + "date")
        if self.type == "boolean":
            if value.lower() not in ("true", "false", "1", "0"):
                raise bad
            return (self.name, "typed", "true" if value.lower() in ("true", "1") else "false", XSD + "boolean")
        if self.type == "language":
            if not _LANGUAGE.match(value):
                raise bad
            if value.lower().split("-")[0] not in LANGS:  # lv-LV is lv; a language the data has no text in
                raise BadRequest(f"parameter {self.name!r}: the data is in lv and en, not {raw!r}")
            return (self.name, "typed", value.lower().split("-")[0], XSD + "string")
        raise bad

    def openapi(self, lang: str = "en") -> dict[str, object]:
        """The OpenAPI 3 parameter object for this parameter."""
        schema: dict[str, object] = dict(_OPENAPI_SCHEMA.get(self.type, {"type": "string"}))
        if self.default is not None:
            schema["default"] = self.default
        other = [x for x in LANGS if x != lang]
        text = self.description_in(lang) + "".join(f" / {self.description[x]}" for x in other if x in self.description)
        if self.type in CONCEPT_TYPES:
            text += f" — type {self.type}: {CONCEPT_TYPES[self.type].description}"
        else:
            text += f" — type {self.type}"
        if self.default is None:
            text += "; optional: when not given, no restriction"
        return {
            "name": self.name,
            "in": "query",
            "required": False,
            "description": text,
            "schema": schema,
            "example": self.example,
        }


@dataclass(frozen=True)
class LibraryQuery:
    name: str
    text: str
    title: dict[str, str] = field(default_factory=dict)
    description: dict[str, str] = field(default_factory=dict)
    params: tuple[Parameter, ...] = ()

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("en") or self.name

    def description_in(self, lang: str) -> str:
        return self.description.get(lang) or self.description.get("en") or ""

    @property
    def body(self) -> str:
        """The query without its header comments.

        Why: some clients guess the query form from the raw text; SPARQLWrapper strips only every second
        consecutive comment line and then finds "ASK" in "task" or "MOVE" in "moved".
        """
        lines = self.text.splitlines(keepends=True)
        start = next((i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")), len(lines))
        return "".join(lines[start:])

    def param(self, name: str) -> Parameter | None:
        return next((p for p in self.params if p.name == name), None)

    def bind(self, raw: Mapping[str, str]) -> tuple[Substitution, ...]:
        """Typed substitutions for the given values plus defaults; unknown names are a BadRequest."""
        unknown = sorted(set(raw) - {p.name for p in self.params})
        if unknown:
            accepted = ", ".join(p.name for p in self.params) or "none"
            raise BadRequest(f"unknown parameter(s) {', '.join(unknown)} for query {self.name!r}; accepted: {accepted}")
        out: list[Substitution] = []
        for p in self.params:
            value = raw.get(p.name, p.default)
            if value is None or (value == "" and p.default is None):
                continue
            out.append(p.bind(value))
        return tuple(out)

    def metadata(self, base_url: str = "/api/queries") -> dict[str, object]:
        """The query as listed by ``GET /api/queries`` (both languages)."""
        return {
            "name": self.name,
            "url": f"{base_url}/{self.name}",
            "title": dict(self.title),
            "description": dict(self.description),
            "parameters": [
                {
                    "name": p.name,
                    "type": p.type,
                    "default": p.default,
                    "example": p.example,
                    "required": False,
                    "description": dict(p.description),
                }
                for p in self.params
            ],
            "query": self.text,
        }


def _parse_param(spec: str, where: str) -> Parameter:
    parts = [x.strip() for x in spec.split("|")]
    if len(parts) != 4:
        raise ValueError(f"{where}: a param line is 'name | type | default | example', got {spec!r}")
    name, ptype, default, example = parts
    if not _VAR.match(name):
        raise ValueError(f"{where}: parameter name {name!r} is not a SPARQL variable name")
    if ptype not in PARAM_TYPES:
        raise ValueError(f"{where}: parameter {name!r} has unknown type {ptype!r}; known: {', '.join(PARAM_TYPES)}")
    return Parameter(name, ptype, default or None, example)


def parse_query_text(name: str, text: str, where: str | None = None) -> LibraryQuery:
    """Parse the header; raise ValueError (naming the file and line) on anything malformed."""
    where = where or name
    title: dict[str, str] = {}
    description: dict[str, str] = {}
    specs: list[Parameter] = []
    param_text: dict[str, dict[str, str]] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        m = _HEADER.match(line)
        if not m:
            continue
        key, sub, lang, value = m.group(1), m.group(2), m.group(3), m.group(4).strip()
        at = f"{where}:{lineno}"
        if key in ("title", "description") and sub is None:
            target = title if key == "title" else description
            target[lang or "en"] = (target.get(lang or "en", "") + " " + value).strip()
        elif key == "param" and sub is None and lang is None:
            specs.append(_parse_param(value, at))
        elif key == "param" and sub is not None:
            param_text.setdefault(sub, {})[lang or "en"] = value
        else:
            raise ValueError(f"{at}: unknown header field {line!r}")
    names = [p.name for p in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: a parameter is declared twice")
    for extra in set(param_text) - set(names):
        raise ValueError(f"{where}: description for undeclared parameter {extra!r}")
    params = []
    for p in specs:
        param = Parameter(p.name, p.type, p.default, p.example, param_text.get(p.name, {}))
        for label, value in (("default", p.default), ("example", p.example)):
            if value is not None:
                try:
                    param.bind(value)
                except BadRequest as e:
                    raise ValueError(f"{where}: the {label} of {p.name!r}: {e.message}") from None
        params.append(param)
    return LibraryQuery(name, text, title, description, tuple(params))


def parse_query_file(path: Path) -> LibraryQuery:
    if not _NAME.match(path.stem):
        raise ValueError(f"{path}: query names are lower-case words joined by '-'")
    return parse_query_text(path.stem, path.read_text(encoding="utf-8"), str(path))


def load_library(directory: Path) -> list[LibraryQuery]:
    return [parse_query_file(p) for p in sorted(Path(directory).glob("*.rq"))]


class ResultCache:
    """Serialised results per (query, parameters, format), valid for one data version only.

    Why per version and not per time: results are exact until the next write, and every write bumps
    ``backend.version()``; a get or put under a new version drops everything kept for the old one.
    """

    def __init__(self, max_entries: int = 2048, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.version: str | None = None
        self._entries: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._size = 0
        self.hits = 0
        self.misses = 0

    def _check_version(self, version: str) -> None:
        if version != self.version:
            self._entries.clear()
            self._size = 0
            self.version = version

    def get(self, key: tuple[object, ...], version: str) -> bytes | None:
        self._check_version(version)
        body = self._entries.get(key)
        if body is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return body

    def put(self, key: tuple[object, ...], version: str, body: bytes) -> None:
        self._check_version(version)
        if len(body) > self.max_bytes // 8:
            return  # one huge result must not evict everything else
        old = self._entries.pop(key, None)
        if old is not None:
            self._size -= len(old)
        self._entries[key] = body
        self._size += len(body)
        while self._entries and (len(self._entries) > self.max_entries or self._size > self.max_bytes):
            _, dropped = self._entries.popitem(last=False)
            self._size -= len(dropped)

    def __len__(self) -> int:
        return len(self._entries)


async def run_library_query(
    backend: Backend,
    query: LibraryQuery,
    raw: Mapping[str, str],
    fmt: Format,
    *,
    timeout: float,
    cache: ResultCache | None = None,
) -> bytes:
    """Validate the parameters, then answer from the cache or the backend (and remember the answer)."""
    substitutions = query.bind(raw)
    version = backend.version()
    key = (query.name, substitutions, fmt.name)
    if cache is not None:
        hit = cache.get(key, version)
        if hit is not None:
            return hit
    out = await backend.query(query.text, result_format=fmt.oxigraph, substitutions=substitutions, timeout=timeout)
    # a write during evaluation may have published a newer version: keep the result only if it did not
    if cache is not None and backend.version() == version:
        cache.put(key, version, out.body)
    return out.body
