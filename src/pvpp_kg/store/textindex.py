"""The text index: names, other names, codes and descriptions of every public resource, in SQLite FTS5.

Why here, in ``store``: the backends rewrite the SPARQL function ``pvppfn:search`` over it (``textsparql``) and
keep it current as part of their writes; the search feature (``pvpp_kg.search``) and the web pages read the same
index through :class:`TextIndex`.

What is indexed (``rq/search-fields.rq``, ``rq/search-kinds.csv``): the literals of the label, alternative label,
notation and description properties of each resource of a known kind, each row with its graph, field and
language. The indexed text is *folded*: NFKD, case-folded, combining marks dropped, so ``gimene`` meets
``ģimene`` and ``cela`` meets ``ceļa``; queries are folded the same way. Each query word is cut to a simple
Latvian stem (``stem``) and matched as a prefix, so ``pabalsts``, ``pabalsta`` and ``pabalstu`` meet, and a
half-typed word matches (type-ahead). Ranking: an exact name first, then a name starting with the query, then
other names, then descriptions (``_SCORE``).

Kept current per data version: the file records the store version it reflects. A write through the backend
that names its graphs (a submission, the Graph Store Protocol) updates just those graphs' rows in one
transaction (milliseconds); any other change (a load, a SPARQL Update) rebuilds the whole index into a new file
that replaces the old one atomically (seconds at national scale).
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import os
import re
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Protocol

from pvpp_kg import rq

FILE_NAME = "textindex.sqlite"
SCHEMA_VERSION = "4"  # an index file of another layout is rebuilt
# the SPARQL function ``pvppfn:search(?resource or ?literal, "query" [, "lang"])`` (rewritten by ``textsparql``)
FUNCTION_NAMESPACE = "https://w3id.org/pvpp/function#"
FUNCTION = FUNCTION_NAMESPACE + "search"
_CALLED = re.compile(r"search>?\s*\(")


def uses_function(query: str) -> bool:
    """Whether a query may call ``pvppfn:search`` (its namespace is declared or named, and something named
    ``search`` is called): a prologue that only declares the prefix, as the query UI's does, is not a call."""
    return FUNCTION_NAMESPACE in query and _CALLED.search(query) is not None


MAX_TERMS = 16

# Latvian noun, adjective and verb endings, longest first; a word keeps at least _MIN_STEM letters. Folded (no
# diacritics), as the text they are cut from.
_ENDINGS = tuple(
    sorted(
        (
            "ajiem ajam ajai ajas ajos ajam ajai "
            "iem ies ijs ija iju ijas ijam ijai "
            "am ai as os es is us ai em im um ei ij "
            "a e i o u s"
        ).split(),
        key=len,
        reverse=True,
    )
)
_MIN_STEM = 4
_WORD = re.compile(r"[^\W_]+")

FIELDS = ("label", "alt", "hidden", "notation", "description")
# score of a matching text: by field, plus a bonus when the whole text is the query or starts with it
_SCORE = "CASE t.field WHEN 'label' THEN 600 WHEN 'description' THEN 100 ELSE 400 END"
_EXACT = 400
_PREFIX = 200
_FIRST = 100  # the text begins with the query's first word

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE texts(id INTEGER PRIMARY KEY, iri TEXT NOT NULL, graph TEXT NOT NULL, field TEXT NOT NULL,
                   lang TEXT NOT NULL, text TEXT NOT NULL, folded TEXT NOT NULL,
                   -- the resource's facets, copied onto each of its texts: a search reads no other table
                   kind TEXT, kind_rank INTEGER, institution TEXT, inst_type TEXT, sector TEXT);
CREATE VIRTUAL TABLE fts USING fts5(folded, content='texts', content_rowid='id',
                                    tokenize='unicode61 remove_diacritics 2', prefix='1 2 3 4');
CREATE TABLE resources(iri TEXT PRIMARY KEY, kind TEXT NOT NULL, kind_rank INTEGER NOT NULL, institution TEXT,
                       inst_type TEXT, sector TEXT, label_lv TEXT, label_en TEXT) WITHOUT ROWID;
CREATE TABLE institutions(iri TEXT PRIMARY KEY, inst_type TEXT, sector TEXT) WITHOUT ROWID;
"""
_INDEXES = """
CREATE INDEX texts_graph ON texts(graph);
CREATE INDEX texts_iri ON texts(iri);
CREATE INDEX texts_folded ON texts(folded, field, kind_rank);  -- covers the suggestions' prefix scan
CREATE INDEX resources_kind ON resources(kind);
"""


def fold(text: str) -> str:
    """Case- and diacritics-free: NFKD, case-folded, combining marks dropped (``Ģimene`` -> ``gimene``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The folded words of a text (letters and digits; everything else separates)."""
    return _WORD.findall(fold(text))


def stem(word: str) -> str:
    """A simple Latvian stem: the word less its longest inflection ending, keeping at least four letters."""
    if word.isdigit():
        return word
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= _MIN_STEM:
            return word[: -len(ending)]
    return word


def match_expression(query: str) -> str | None:
    """The FTS5 MATCH expression of a query: each word's stem as a quoted prefix, all required. Only letters and
    digits reach FTS5 (quoted), so no query text is ever FTS5 syntax. None when the query has no word."""
    terms = words(query)[:MAX_TERMS]
    if not terms:
        return None
    return " AND ".join(f'"{stem(t)}"*' for t in terms)


@cache
def kinds() -> list[dict[str, str]]:
    """The kinds of resource the index knows, in priority order, with their lv/en labels (``rq/search-kinds.csv``)."""
    text = files(rq.__name__).joinpath("search-kinds.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@dataclass(frozen=True)
class Hit:
    iri: str
    score: float
    kind: str
    institution: str | None
    inst_type: str | None
    sector: str | None
    label_lv: str | None
    label_en: str | None
    langs: frozenset[str]
    text: str  # the best-matching text
    field: str


def _values(var: str, iris: Iterable[str]) -> str:
    return f"\nVALUES ?{var} {{ {' '.join(f'<{i}>' for i in iris)} }}"


class TextIndex:
    """The index file beside the store (``<store>/textindex.sqlite``), opened per thread, kept current."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / FILE_NAME
        self._lock_path = Path(directory) / "textindex.lock"
        self._local = threading.local()
        self.last_build_seconds: float | None = None
        self.last_stages: dict[str, float] = {}

    # --- connections ------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        """This thread's connection to the current file (reopened when a rebuild replaced the file)."""
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            inode = None
        held: tuple[int | None, sqlite3.Connection] | None = getattr(self._local, "conn", None)
        if held is not None and held[0] == inode:
            return held[1]
        if held is not None:
            held[1].close()
        # the default rollback journal, not WAL: a rebuild replaces the file by renaming, which a WAL file beside
        # the old one would corrupt; a per-graph update blocks readers for its few milliseconds
        conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._local.conn = (inode, conn)
        return conn

    def version(self) -> int | None:
        """The store version the index reflects, or None when there is no index yet."""
        if not self.path.exists():
            return None
        try:
            found = dict(self._connect().execute("SELECT key, value FROM meta WHERE key IN ('version', 'schema')"))
        except sqlite3.DatabaseError:
            return None
        if found.get("schema") != SCHEMA_VERSION or "version" not in found:
            return None
        return int(found["version"])

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        with open(self._lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # --- keeping it current -----------------------------------------------------------------------------

    def ensure(self, store: Any) -> None:
        """Make the index reflect the store's newest version (``store``: an ``EmbeddedStore``); rebuild if not."""

        def newest() -> tuple[int, Source]:
            version, snapshot = store.newest_snapshot()
            return version, StoreSource(store.reader_of(snapshot))

        self.refresh(store.version(), newest)

    def refresh(self, version: int, source: Callable[[], tuple[int, Source]]) -> None:
        """Rebuild the index unless it reflects ``version`` (``source``: the data's version and where to read it,
        asked only when a build is due)."""
        if self.version() == version:
            return
        with self._exclusive():
            if self.version() == version:  # another process or thread built it meanwhile
                return
            version, data = source()
            self.build(data, version)

    def build(self, source: Source, version: int) -> None:
        """Build the whole index from one consistent view of the data into a new file, then put it in place
        atomically. The seconds of each stage are kept in ``last_stages`` (for the benchmark)."""
        started = time.perf_counter()
        stages: dict[str, float] = {}

        def stage(name: str, since: list[float] = [started]) -> None:  # noqa: B006 - a running clock
            now = time.perf_counter()
            stages[name] = now - since[0]
            since[0] = now

        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        texts, kinds_of, owners, institutions = _read_all(source)
        stage("read")
        resources = _resources(texts, kinds_of, owners, institutions)
        facets = {r[0]: r[1:6] for r in resources}
        rows = [(*row, *facets[row[0]]) for row in texts]
        stage("rows")
        conn = sqlite3.connect(tmp)
        try:
            # a new file renamed into place when complete: no journal, no syncs while it is written
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            conn.executescript(_SCHEMA)
            conn.executemany(
                "INSERT INTO institutions VALUES (?, ?, ?)", sorted((k, *v) for k, v in institutions.items())
            )
            conn.executemany("INSERT INTO resources VALUES (?, ?, ?, ?, ?, ?, ?, ?)", resources)
            conn.executemany(
                "INSERT INTO texts(iri, graph, field, lang, text, folded, kind, kind_rank, institution, inst_type, "
                "sector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            stage("insert")
            conn.execute("INSERT INTO fts(fts) VALUES ('rebuild')")
            conn.execute("INSERT INTO fts(fts) VALUES ('optimize')")
            stage("fts")
            conn.executescript(_INDEXES)
            conn.execute("INSERT INTO meta VALUES ('version', ?), ('schema', ?)", (str(version), SCHEMA_VERSION))
            conn.commit()
            stage("indexes")
        finally:
            conn.close()
        os.replace(tmp, self.path)
        self.last_build_seconds = time.perf_counter() - started
        self.last_stages = stages

    def apply_graphs(self, source: Source, old: int, new: int, graphs: Iterable[str]) -> bool:
        """After a write that replaced ``graphs`` (data version ``old`` -> ``new``, ``source`` the new data):
        replace those graphs' rows in one transaction. Nothing is done, and False returned, when the index did not
        reflect ``old`` (the next ``ensure`` rebuilds it)."""
        graphs = list(graphs)
        if not self.path.exists():
            return False
        with self._exclusive():
            conn = self._connect()
            if self.version() != old:
                return False
            new_rows = [row for g in graphs for row in _texts(source, g)]
            subjects = {row[0] for row in new_rows}
            with conn:
                marks = ",".join("?" * len(graphs))
                old_subjects = {
                    r[0] for r in conn.execute(f"SELECT DISTINCT iri FROM texts WHERE graph IN ({marks})", graphs)
                }
                conn.execute(
                    f"INSERT INTO fts(fts, rowid, folded) SELECT 'delete', id, folded FROM texts "
                    f"WHERE graph IN ({marks})",
                    graphs,
                )
                conn.execute(f"DELETE FROM texts WHERE graph IN ({marks})", graphs)
                kinds_of = _kinds(source, subjects) if subjects else {}
                new_rows = [row for row in new_rows if row[0] in kinds_of]
                for row in new_rows:
                    cur = conn.execute(
                        "INSERT INTO texts(iri, graph, field, lang, text, folded) VALUES (?, ?, ?, ?, ?, ?)", row
                    )
                    conn.execute("INSERT INTO fts(rowid, folded) VALUES (?, ?)", (cur.lastrowid, row[5]))
                touched = old_subjects | subjects
                self._refresh_resources(conn, source, touched, kinds_of)
                conn.execute("UPDATE meta SET value = ? WHERE key = 'version'", (str(new),))
        return True

    @staticmethod
    def _refresh_resources(
        conn: sqlite3.Connection, source: Source, touched: set[str], kinds_of: dict[str, str]
    ) -> None:
        if not touched:
            return
        marks = ",".join("?" * len(touched))
        conn.execute(f"DELETE FROM resources WHERE iri IN ({marks})", list(touched))
        rows = conn.execute(
            f"SELECT iri, graph, field, lang, text, folded FROM texts WHERE iri IN ({marks})", list(touched)
        ).fetchall()
        present = {r[0] for r in rows}
        missing = present - kinds_of.keys()
        if missing:
            kinds_of = {**kinds_of, **_kinds(source, missing)}
        institutions = dict(
            (r[0], (r[1], r[2])) for r in conn.execute("SELECT iri, inst_type, sector FROM institutions")
        )
        owners = _owners(source, present) if present else {}
        conn.executemany(
            "INSERT INTO resources VALUES (?, ?, ?, ?, ?, ?, ?, ?)", _resources(rows, kinds_of, owners, institutions)
        )
        conn.execute(
            f"UPDATE texts SET kind = r.kind, kind_rank = r.kind_rank, institution = r.institution, "
            f"inst_type = r.inst_type, sector = r.sector FROM resources r "
            f"WHERE r.iri = texts.iri AND texts.iri IN ({marks})",
            list(touched),
        )

    # --- reading ----------------------------------------------------------------------------------------

    def connection(self) -> sqlite3.Connection:
        return self._connect()

    def scores(self, query: str, lang: str | None) -> dict[str, float]:
        """The score of every resource matching ``query`` (in ``lang``, when given): what ``pvppfn:search`` is
        rewritten over (``textsparql``)."""
        return scores(self._connect(), query, langs=(lang,) if lang else ())

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.parent.glob(FILE_NAME + "*") if p.exists())


def _rank_sql() -> str:
    """The rank of one text (bound: the folded query, its prefix pattern, the first word's stem pattern)."""
    return f"""({_SCORE} + CASE WHEN t.folded = ? THEN {_EXACT} WHEN t.folded LIKE ? THEN {_PREFIX}
                WHEN t.folded LIKE ? THEN {_FIRST} ELSE 0 END) * 100000
                - t.kind_rank * 1000 - min(length(t.folded), 999)"""


def _hits(rows: Iterable[tuple[Any, ...]]) -> list[Hit]:
    return [
        Hit(
            iri=row[0],
            score=float(-(-row[3] // 100000)),
            kind=row[5],
            institution=row[6],
            inst_type=row[7],
            sector=row[8],
            label_lv=None,
            label_en=None,
            langs=frozenset(x for x in (row[4] or "").split(",") if x),
            text=row[2],
            field=row[1],
        )
        for row in rows
    ]


_SELECT = """SELECT t.iri, t.field, t.text, MAX({rank}) AS rank, group_concat(DISTINCT t.lang),
                    t.kind, t.institution, t.inst_type, t.sector"""


def search(
    conn: sqlite3.Connection,
    query: str,
    *,
    langs: Iterable[str] = (),
    fields: Iterable[str] = FIELDS,
    limit: int | None = None,
) -> list[Hit]:
    """Every resource matching ``query`` (texts in ``langs`` or untagged, of ``fields``), best first: the score
    of its best-matching text (see ``_SCORE``), then its kind's rank, then the shorter text. The names of a hit
    (``label_lv``, ``label_en``) are left to :func:`labels`, for the few shown."""
    expression = match_expression(query)
    if expression is None:
        return []
    folded = " ".join(words(query))
    first = stem(words(query)[0]) + "%"
    where = ["fts MATCH ?"]
    params: list[Any] = [folded, folded + "%", first, expression]
    fields = tuple(fields)
    if fields != FIELDS:
        where.append(f"t.field IN ({','.join('?' * len(fields))})")
        params.extend(fields)
    langs = tuple(langs)
    if langs:
        where.append(f"t.lang IN ({','.join('?' * (len(langs) + 1))})")
        params.extend((*langs, ""))
    sql = f"""{_SELECT.format(rank=_rank_sql())}
        FROM fts JOIN texts t ON t.id = fts.rowid
        WHERE {" AND ".join(where)}
        GROUP BY t.iri
        ORDER BY rank DESC, t.iri""" + (f" LIMIT {int(limit)}" if limit else "")
    return _hits(conn.execute(sql, params))


def scores(conn: sqlite3.Connection, query: str, *, langs: Iterable[str] = ()) -> dict[str, float]:
    """The score of every resource matching ``query``: ``search``'s scores without its order and columns, for the
    SPARQL function (half the time of ``search`` for 1,162 matches). With ``langs``, as the search's language
    facet counts a hit: a resource that matched in one of them, or matched in no language (codes) at all — not one
    whose Latvian title and language-neutral identifier matched, asked in English."""
    expression = match_expression(query)
    if expression is None:
        return {}
    folded = " ".join(words(query))
    params: list[Any] = [folded, folded + "%", stem(words(query)[0]) + "%", expression]
    having = ""
    langs = tuple(langs)
    if langs:
        having = f" HAVING SUM(t.lang IN ({','.join('?' * len(langs))})) > 0 OR SUM(t.lang != '') = 0"
        params.extend(langs)
    sql = (
        f"SELECT t.iri, MAX({_rank_sql()}) FROM fts JOIN texts t ON t.id = fts.rowid WHERE fts MATCH ? "
        f"GROUP BY t.iri{having}"
    )
    return {iri: float(-(-rank // 100000)) for iri, rank in conn.execute(sql, params)}


SUGGEST_CANDIDATES = 400
# names beginning with the query read in the index's order before the shortest are chosen: a two-letter prefix
# begins ~24,000 names at national scale, and sorting them all made suggestions' p50 > 5 ms (issue 30)
SUGGEST_SCAN = 2000


def suggest(conn: sqlite3.Connection, query: str, *, limit: int) -> list[Hit]:
    """The best few names for a half-typed query, from a bounded set of candidates: names that begin with the
    whole query (the shortest of the first ``SUGGEST_SCAN`` in the index on folded text) and the first
    ``SUGGEST_CANDIDATES`` word matches; so a one-letter query costs no more than a full word. Descriptions are
    not suggested."""
    expression = match_expression(query)
    if expression is None:
        return []
    folded = " ".join(words(query))
    first = stem(words(query)[0]) + "%"
    sql = f"""WITH candidates(id) AS (
            SELECT id FROM (SELECT id FROM (SELECT id, folded, kind_rank FROM texts
                                            WHERE folded >= ? AND folded < ? AND field != 'description'
                                            LIMIT {SUGGEST_SCAN})
                            ORDER BY length(folded), kind_rank LIMIT {SUGGEST_CANDIDATES})
            UNION
            SELECT id FROM (SELECT rowid AS id FROM fts WHERE fts MATCH ? LIMIT {SUGGEST_CANDIDATES})
        )
        {_SELECT.format(rank=_rank_sql())}
        FROM candidates JOIN texts t ON t.id = candidates.id
        WHERE t.field != 'description'
        GROUP BY t.iri
        ORDER BY rank DESC, t.iri
        LIMIT {int(limit)}"""
    params = [folded, folded + "\U0010ffff", expression, folded, folded + "%", first]
    return _hits(conn.execute(sql, params))


def labels(conn: sqlite3.Connection, iris: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
    """The lv and en names of indexed resources (for facet values such as institution types and ministries)."""
    iris = list(iris)
    if not iris:
        return {}
    marks = ",".join("?" * len(iris))
    return {
        r[0]: (r[1], r[2])
        for r in conn.execute(f"SELECT iri, label_lv, label_en FROM resources WHERE iri IN ({marks})", iris)
    }


# --- reading the store ------------------------------------------------------------------------------------

Text = tuple[str, str, str, str, str]  # (iri, graph, field, lang, text)


class Source(Protocol):
    """Where the index reads the data: the embedded store (``StoreSource``) or a remote SPARQL server
    (``store.remote.SparqlSource``). Rows come as strings ("" for an unbound value), as SPARQL CSV has them."""

    def select(self, query: str) -> list[list[str]]:
        """The rows of a SELECT over the union of the graphs (no header)."""
        ...

    def texts(self, fields: dict[str, str], graph: str) -> Iterable[Text]:
        """The literals of the ``fields`` properties (IRI -> field) whose subject is an IRI, in ``graph``."""
        ...


def csv_rows(data: bytes) -> list[list[str]]:
    """The rows of SPARQL CSV results, without the header (parsed by the csv module's C reader)."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    return rows[1:]


class StoreSource:
    """A read-only snapshot of the embedded store (a ``pyoxigraph.Store``)."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader

    def select(self, query: str) -> list[list[str]]:
        import pyoxigraph as ox

        results = self.reader.query(query, use_default_graph_as_union=True)
        return csv_rows(results.serialize(format=ox.QueryResultsFormat.CSV))

    def texts(self, fields: dict[str, str], graph: str) -> Iterator[Text]:
        """Scanned per property from the store's graph-first index."""
        import pyoxigraph as ox

        g = ox.NamedNode(graph)
        literal, named = ox.Literal, ox.NamedNode
        for p, field in fields.items():
            for quad in self.reader.quads_for_pattern(None, ox.NamedNode(p), None, g):
                s, o, name = quad.subject, quad.object, quad.graph_name
                if type(o) is literal and type(s) is named and type(name) is named:
                    yield s.value, name.value, field, o.language or "", o.value


def _fields(source: Source) -> dict[str, str]:
    """The indexed properties (``rq/search-fields.rq``): IRI -> field."""
    return {p: field for p, field in source.select(rq.load("search-fields"))}


_folded_cache: dict[str, str] = {}


def _folded_words(text: str) -> str:
    """``" ".join(words(text))``, remembered: generated and real data repeat many names."""
    folded = _folded_cache.get(text)
    if folded is None:
        if len(_folded_cache) > 200_000:
            _folded_cache.clear()
        folded = _folded_cache[text] = " ".join(_WORD.findall(text.lower() if text.isascii() else fold(text)))
    return folded


def _texts(source: Source, graph: str) -> list[tuple[str, ...]]:
    """(iri, graph, field, lang, text, folded words) of every indexed literal of an IRI in ``graph`` (what a
    per-graph update reads; the resources' kinds are asked after)."""
    rows = []
    for iri, g, field, lang, text in source.texts(_fields(source), graph):
        folded = _folded_words(text)
        if folded:
            rows.append((iri, g, field, lang, text, folded))
    return rows


_CHUNK = 200  # IRIs per VALUES block: Oxigraph joins a large VALUES block with a pattern in quadratic time


def _chunks(subjects: Iterable[str] | None) -> list[str]:
    """The trailing VALUES blocks that restrict a query to ``subjects`` ("" for no restriction)."""
    if subjects is None:
        return [""]
    listed = sorted(subjects)
    return [_values("s", listed[i : i + _CHUNK]) for i in range(0, len(listed), _CHUNK)]


def _kind_values(kinds_wanted: Iterable[str] | None = None) -> str:
    """The ``VALUES (?class ?kind)`` block of ``search-kinds.csv`` (of ``kinds_wanted`` only, when given)."""
    pairs = [
        f'(<{c}> "{k["kind"]}")'
        for k in kinds()
        if kinds_wanted is None or k["kind"] in kinds_wanted
        for c in k["classes"].split()
    ]
    return f"VALUES (?class ?kind) {{ {' '.join(pairs)} }}"


def _filled(name: str, *blocks: str) -> str:
    """``rq/{name}.rq`` with its empty VALUES blocks (``VALUES (?a ?b) { }``) filled, in order."""
    query = rq.load(name)
    for block in blocks:
        empty = block[: block.index("{")] + "{ }"
        if empty not in query:  # an edited query file must not silently read nothing
            raise ValueError(f"rq/{name}.rq has no {empty!r} to fill")
        query = query.replace(empty, block, 1)
    return query


def _rank_kinds(rows: Iterable[list[str]], found: dict[str, str]) -> dict[str, str]:
    """``found`` updated with (iri, kind, ...) rows: the first kind in ``search-kinds.csv``'s order wins."""
    order = {k["kind"]: i for i, k in enumerate(kinds())}
    for row in rows:
        iri, kind = row[0], row[1]
        held = found.get(iri)
        if held is None or order[kind] < order[held]:
            found[iri] = kind
    return found


def _kinds(source: Source, subjects: Iterable[str] | None) -> dict[str, str]:
    """The kind of each resource (of ``subjects``, or of every instance of a listed class)."""
    query = _filled("search-instances", _kind_values())
    found: dict[str, str] = {}
    for tail in _chunks(subjects):
        _rank_kinds(source.select(query + tail), found)
    return found


# The texts read as two queries, one per core, beside the owners and institutions: services (half the texts at
# national scale) and every other kind. Issue 30's index build: 8.0 s, against 8.7-9.8 s as one text query and
# 10.2-10.5 s with one thread.
_TEXT_PARTS = (("service",), tuple(k["kind"] for k in kinds() if k["kind"] != "service"))


def _read_all(
    source: Source,
) -> tuple[list[tuple[str, ...]], dict[str, str], dict[str, str], dict[str, tuple[str | None, str | None]]]:
    """Everything a whole build reads: the texts (as ``_texts`` has them) of every resource of a known kind, the
    resources' kinds, owners and the institutions' facets, read by two threads (the store answers without the
    GIL, a remote server in parallel)."""
    fields = _fields(source)
    field_values = "VALUES (?p ?field) { " + " ".join(f'(<{p}> "{f}")' for p, f in fields.items()) + " }"
    queries = [_filled("search-kind-texts", _kind_values(part), field_values) for part in _TEXT_PARTS]
    with ThreadPoolExecutor(2) as pool:
        parts = [pool.submit(source.select, q) for q in queries]
        owners = pool.submit(_owners, source, None)
        institutions = pool.submit(_institutions, source)
        read = [f.result() for f in parts]
    kinds_of: dict[str, str] = {}
    for rows in read:
        _rank_kinds(rows, kinds_of)
    texts = []
    for rows in read:
        for iri, kind, g, field, lang, text, literal in rows:
            # a resource of several kinds has its texts once per kind: its first kind's are kept
            if literal != "true" or kinds_of[iri] != kind:
                continue
            if folded := _folded_words(text):
                texts.append((iri, g, field, lang, text, folded))
    return texts, kinds_of, owners.result(), institutions.result()


def _owners(source: Source, subjects: Iterable[str] | None) -> dict[str, str]:
    return {s: i for tail in _chunks(subjects) for s, i in source.select(rq.load("search-owners") + tail)}


MINISTRY = "https://w3id.org/pvpp/ontology#Ministry"


def _institutions(source: Source) -> dict[str, tuple[str | None, str | None]]:
    """Each institution's type and sector: the first ministry found going up org:subOrganizationOf from it
    (itself included)."""
    types: dict[str, str | None] = {}
    parents: dict[str, list[str]] = {}
    for iri, t, parent in source.select(rq.load("search-institutions")):
        if parent:
            parents.setdefault(iri, []).append(parent)
        else:
            types[iri] = types.get(iri) or t or None
    ministries = {iri for iri, t in types.items() if t == MINISTRY}

    def sector(iri: str) -> str | None:
        seen, todo = {iri}, [iri]
        while todo:
            node = todo.pop(0)
            if node in ministries:
                return node
            for up in parents.get(node, ()):
                if up not in seen:
                    seen.add(up)
                    todo.append(up)
        return None

    return {iri: (t, sector(iri)) for iri, t in types.items()}


def _resources(
    texts: Iterable[tuple[str, ...]],
    kinds_of: dict[str, str],
    owners: dict[str, str],
    institutions: dict[str, tuple[str | None, str | None]],
) -> list[tuple[str, str, int, str | None, str | None, str | None, str | None, str | None]]:
    """One row per resource with a text (its kind, facets and lv/en name), sorted by IRI (the table's key: a
    sorted insert is ~3x faster)."""
    rank = {"label": 0, "alt": 1, "notation": 2}
    names: dict[tuple[str, str], tuple[int, str]] = {}
    for iri, _g, field, lang, text, _f in texts:
        if field not in rank or (lang != "lv" and lang != "en"):
            continue  # a description or a hidden label is never a name
        r = rank[field]
        key = (iri, lang)
        held = names.get(key)
        if held is None or held[0] > r:
            names[key] = (r, text)
    order = {k["kind"]: i for i, k in enumerate(kinds())}
    rows = []
    for iri in sorted({t[0] for t in texts}):
        kind = kinds_of.get(iri)
        if kind is None:
            continue
        institution = owners.get(iri)
        inst_type, sector = institutions.get(institution, (None, None)) if institution else (None, None)
        lv, en = names.get((iri, "lv")), names.get((iri, "en"))
        rows.append((iri, kind, order[kind], institution, inst_type, sector, lv and lv[1], en and en[1]))
    return rows


# --- the SPARQL function ----------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _stems(query: str) -> tuple[str, ...]:
    return tuple(stem(t) for t in words(query)[:MAX_TERMS])


def matches_text(text: str, query: str) -> bool:
    """True when every query word's stem begins a word of ``text`` (folded): the index's rule for one text."""
    stems = _stems(query)
    if not stems:
        return False
    have = " " + _folded_words(text)  # a stem begins a word: it follows a space
    return all(" " + s in have for s in stems)
