"""Reading a document safely: RDF in any accepted syntax or the spreadsheet template, never touching the network.

Remote JSON-LD contexts, XML DOCTYPEs/entities and ``owl:imports`` are refused with an :class:`InputError`
before or right after parsing, and every error names the source, line and column where known.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph
from rdflib.namespace import OWL

from pvpp_kg.errors import InputError, PayloadTooLarge, UnsupportedMediaType
from pvpp_kg.namespaces import BASE
from pvpp_kg.settings import Settings
from pvpp_kg.shacl.terms import to_ox, to_rdflib
from pvpp_kg.store.embedded import parse_error
from pvpp_kg.store.guards import check_syntax_guards

# document formats: name → (pyoxigraph format or None for the spreadsheet, media types, file extensions)
FORMATS: dict[str, tuple[ox.RdfFormat | None, tuple[str, ...], tuple[str, ...]]] = {
    "turtle": (ox.RdfFormat.TURTLE, ("text/turtle", "application/x-turtle"), ("ttl",)),
    "ntriples": (ox.RdfFormat.N_TRIPLES, ("application/n-triples", "text/plain"), ("nt",)),
    "jsonld": (ox.RdfFormat.JSON_LD, ("application/ld+json", "application/json"), ("jsonld", "json")),
    "rdfxml": (ox.RdfFormat.RDF_XML, ("application/rdf+xml", "application/xml", "text/xml"), ("rdf", "xml", "owl")),
    "csv": (None, ("text/csv",), ("csv",)),
    "xlsx": (None, ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",), ("xlsx",)),
    "csvzip": (None, ("application/zip", "application/x-zip-compressed"), ("zip",)),  # the template's CSV variant
}
# what a file given on the command line may be: the documents above, and datasets (what ``generate`` writes)
FILE_EXTENSIONS = (*(e for _, _, exts in FORMATS.values() for e in exts), "nq", "trig")


# ---------------------------------------------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------------------------------------------


def detect_format(media_type: str | None, filename: str | None) -> str:
    """The document format from a media type, else from the file extension; 415 when neither says."""
    ctype = (media_type or "").split(";")[0].strip().lower()
    generic = ("", "application/octet-stream", "multipart/form-data", "application/x-www-form-urlencoded")
    if ctype not in generic:
        for name, (_, types, _) in FORMATS.items():
            if ctype in types:
                return name
    if filename and "." in filename:
        ext = filename.rsplit(".", 1)[1].lower()
        for name, (_, _, exts) in FORMATS.items():
            if ext in exts:
                return name
    known = ", ".join(t for _, types, _ in FORMATS.values() for t in types[:1])
    raise UnsupportedMediaType(
        f"unsupported or missing content type {ctype or '(none)'!r}"
        f"{f' for {filename}' if filename else ''}; send one of: {known}",
        lv=f"neatbalstīts vai nenorādīts satura tips {ctype or '(nav)'!r}"
        f"{f' failam {filename}' if filename else ''}; sūtiet kādu no: {known}",
    )


def _nfc(term: Any) -> Any:
    """A literal's text in Unicode NFC (one code point for "ā", as the policy's text has it): text pasted in the
    decomposed form looks the same, but would compare, search and diff as different text."""
    if isinstance(term, ox.Literal) and not unicodedata.is_normalized("NFC", term.value):
        value = unicodedata.normalize("NFC", term.value)
        return ox.Literal(value, language=term.language) if term.language else ox.Literal(value, datatype=term.datatype)
    return term


class Document:
    """A parsed document: each triple once, as pyoxigraph terms in the form the store keeps them ("99.0"^^xsd:decimal
    as "99"), literals in NFC. It is what the validator loads and what a submission stores; :meth:`graph` is an
    rdflib copy for the few readers that want one (a user's shapes)."""

    __slots__ = ("entailed", "origin", "triples")

    def __init__(self, triples: Iterable[ox.Triple]) -> None:
        self.origin: Any = None  # a spreadsheet's rows (spreadsheet.Origin): where each node's cells are
        # (rules, quads): the document materialised, made once by the validator and kept for the preview's diff
        self.entailed: tuple[Any, list[ox.Quad]] | None = None
        store = ox.Store()  # one copy of each triple, literals in the store's canonical form
        store.extend(ox.Quad(t.subject, t.predicate, _nfc(t.object)) for t in triples)
        self.triples = [q.triple for q in store]

    def __getstate__(self) -> tuple[list[ox.Triple], Any]:
        """Pickled (a kept upload, web/pending.py) without the validator's materialisation: it is made again."""
        return self.triples, self.origin

    def __setstate__(self, state: tuple[list[ox.Triple], Any]) -> None:
        self.triples, self.origin = state
        self.entailed = None

    @classmethod
    def of_graph(cls, graph: Iterable[tuple[Any, Any, Any]]) -> Document:
        """A document made in rdflib terms (the spreadsheet template's reader: a Graph or a list of triples)."""
        return cls(ox.Triple(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in graph)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.triples)

    def __add__(self, other: Document) -> Document:
        return Document([*self.triples, *other.triples])

    def graph(self) -> Graph:
        g = Graph()
        g.addN((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object), g) for t in self.triples)
        return g

    def transfer(self) -> bytes:
        """The triples as unsorted N-Triples: how a document travels to the validation process."""
        return ox.serialize(self.triples, format=ox.RdfFormat.N_TRIPLES)

    @classmethod
    def transferred(cls, data: bytes) -> Document:
        """The document :meth:`transfer` sent: its triples are unique already, so they are not stored again."""
        document = cls.__new__(cls)
        document.origin, document.entailed = None, None
        document.triples = [q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)]
        return document

    def ntriples(self) -> bytes:
        """Sorted N-Triples: the submission's stored content and the input of its checksum."""
        text = ox.serialize(self.triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
        return ("\n".join(sorted(line for line in text.splitlines() if line.strip())) + "\n").encode("utf-8")


def parse_rdf(data: bytes, fmt: str, source: str) -> Document:
    """Parse one RDF document without touching the network; errors name source, line and column. A UTF-8
    byte-order mark (Windows Notepad writes one) is not part of the document."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    if not data.strip():
        raise InputError("the document is empty", source=source, lv="dokuments ir tukšs")
    check_syntax_guards(data, fmt, source)
    rdf_format = FORMATS[fmt][0]
    assert rdf_format is not None
    try:
        triples = list(ox.parse(data, format=rdf_format, base_iri=BASE + "id/"))
    except SyntaxError as e:
        raise parse_error(e, source) from None
    except (ValueError, OSError) as e:
        raise InputError(f"cannot parse as {fmt}: {e}", source=source, lv=f"nevar nolasīt kā {fmt}: {e}") from None
    document = Document(triples)
    _check_imports(document, source)
    if len(document) == 0:
        raise InputError(
            "the document holds no triples (a submission would erase the institution's data)",
            source=source,
            lv="dokumentā nav neviena trijnieka (iesniegums izdzēstu iestādes datus)",
        )
    return document


_IMPORTS = ox.NamedNode(str(OWL.imports))


def _check_imports(document: Document, source: str) -> None:
    for target in (t.object for t in document.triples if t.predicate == _IMPORTS):
        if not isinstance(target, ox.NamedNode) or target.value != BASE + "ontology":
            raise InputError(
                f"owl:imports {target} is refused: pvpp-kg never fetches imports; remove the "
                "statement (the PVPP ontology and reference data are always present)",
                source=source,
            )


def parse_document(
    data: bytes,
    *,
    media_type: str | None = None,
    filename: str | None = None,
    sheet: str | None = None,
    settings: Settings | None = None,
) -> Document:
    """Any accepted document (RDF or the spreadsheet template), parsed once; ``settings`` bound a workbook."""
    fmt = detect_format(media_type, filename)
    source = filename or "request body"
    if fmt in ("csv", "xlsx", "csvzip"):
        from pvpp_kg.validation import spreadsheet

        if not data.strip():
            raise InputError("the document is empty", source=source, lv="dokuments ir tukšs")
        limits = spreadsheet.SheetLimits.of(settings) if settings is not None else None
        if fmt == "xlsx":
            return _sheets(lambda: spreadsheet.read_xlsx(data, source=source, limits=limits), source)
        if fmt == "csvzip":
            return _sheets(lambda: spreadsheet.read_csv_zip(data, source=source, limits=limits), source)
        name = sheet or (Path(filename).stem if filename else None)
        return _sheets(lambda: spreadsheet.read_csv(data, sheet=name, source=source), source)
    return parse_rdf(data, fmt, source)


def _sheets(read: Any, source: str) -> Document:
    """A spreadsheet read by ``read()`` as a document that keeps its rows' places; refused cells are a
    ``SheetErrors`` carrying the rows that could be read."""
    from pvpp_kg.validation import spreadsheet

    try:
        graph, origin = read()
    except spreadsheet.SheetErrors as e:
        if e.read is not None and e.read[0]:  # the rows read, for the rules (the refused cells aside)
            e.document = Document.of_graph(e.read[0])
            e.document.origin = e.read[1]
        raise
    document = Document.of_graph(graph)
    if len(document) == 0:
        raise InputError(
            "the spreadsheet has no filled rows (the template's name and example rows are not data; a "
            "submission would erase the institution's data)",
            source=source,
            lv="izklājlapā nav aizpildītu rindu (veidnes nosaukumu un piemēra rindas nav dati; iesniegums izdzēstu "
            "iestādes datus)",
        )
    document.origin = origin
    return document


def _csv_sheets(paths: list[Path], settings: Settings) -> Document:
    """The template's CSV files read together as one workbook, as a zip of them is: results keep their sheet,
    row and column, a manager is checked against the posts sheet, a sheet with no rows is no error."""
    from pvpp_kg.validation import spreadsheet

    files = [(path.stem, _read(path, settings), str(path)) for path in paths]
    source = str(paths[0].parent / "*.csv")
    limits = spreadsheet.SheetLimits.of(settings)
    return _sheets(lambda: spreadsheet.read_csv_files(files, source=source, limits=limits), source)


def _read(path: Path, settings: Settings) -> bytes:
    """A file's bytes, size-limited like an HTTP body; a file that cannot be read is bad input naming it."""
    try:
        size = path.stat().st_size
        if size > settings.max_body_bytes:
            raise PayloadTooLarge(f"{path}: {size} bytes, over the limit of {settings.max_body_bytes}")
        return path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", source=str(path), lv=f"nevar nolasīt: {e.strerror}") from None


def _dataset(data: bytes, path: Path) -> list[ox.Quad]:
    fmt = ox.RdfFormat.N_QUADS if path.suffix.lower() == ".nq" else ox.RdfFormat.TRIG
    try:
        return list(ox.parse(data, format=fmt))
    except SyntaxError as e:
        raise parse_error(e, str(path)) from None


def parse_files(paths: Iterable[Path], settings: Settings) -> Document:
    """Several files (CLI) as one document; size-limited like an HTTP body. One spreadsheet keeps its rows'
    places (``origin``), so that its results name their sheet, row and column as over HTTP. Refused spreadsheet
    cells of every file come out as one :class:`~pvpp_kg.validation.spreadsheet.SheetErrors` whose ``document``
    holds everything that could be read, as /validate reports them beside the rules."""
    from pvpp_kg.validation.spreadsheet import SheetErrors

    paths = list(paths)
    if len(paths) > 1 and all(p.suffix.lower() == ".csv" for p in paths):  # the template's sheets, one file each
        return _csv_sheets(paths, settings)
    triples: list[ox.Triple] = []
    documents: list[Document] = []
    refused: list[SheetErrors] = []
    for path in paths:
        data = _read(path, settings)
        suffix = path.suffix.lower().lstrip(".")
        if suffix not in FILE_EXTENSIONS:  # a file has an extension, not a media type: the error names extensions
            readable = ", ".join("." + e for e in FILE_EXTENSIONS)
            raise InputError(
                f"cannot read {f'.{suffix} files' if suffix else 'a file without an extension'}; "
                f"validate reads {readable}",
                source=str(path),
                lv=f"nevar nolasīt {f'.{suffix} failus' if suffix else 'failu bez paplašinājuma'}; "
                f"validate lasa {readable}",
            )
        if suffix in ("nq", "trig"):  # a dataset (what ``generate`` writes): its graphs as one
            documents.append(Document(q.triple for q in _dataset(data, path)))
        else:
            try:
                documents.append(parse_document(data, filename=str(path), settings=settings))
            except SheetErrors as e:
                refused.append(e)
                documents.append(e.document if e.document is not None else Document([]))
        triples += documents[-1].triples
    document = documents[0] if len(documents) == 1 else Document(triples)
    if refused:
        every = SheetErrors([p for e in refused for p in e.problems], refused[0].source or "")
        every.document = document
        raise every
    return document
