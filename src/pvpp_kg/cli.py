"""The ``pvpp-kg`` command line: thin commands over the modules that do the work.

Exit codes: 0 success, 1 the data does not conform (validate), 2 unusable input or usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pvpp_kg.errors import InputError, PvppError
from pvpp_kg.settings import Settings, get_settings, read_institution_tokens

if TYPE_CHECKING:
    from pvpp_kg.validation.parse import Document


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"pvpp-kg: {message}", err=True)
    sys.exit(code)


class _Commands(click.Group):
    """Every command: a bad ``PVPP_*`` setting or a path that cannot be read or written is exit 2 with one line
    naming it, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        from pydantic import ValidationError

        try:
            return super().invoke(ctx)
        except ValidationError as e:
            bad = "; ".join(f"PVPP_{'_'.join(str(x) for x in err['loc']).upper()}: {err['msg']}" for err in e.errors())
            _fail(f"a setting is not valid: {bad}")
        except OSError as e:  # a path not writable, a file where a directory should be, …
            _fail(f"{e.filename}: {e.strerror}" if e.filename and e.strerror else str(e))
        return None


@click.group(cls=_Commands)
@click.version_option(package_name="pvpp-kg")
def main() -> None:
    """pvpp-kg: ontology, SHACL shapes, SPARQL endpoint and linked data for PVPP 2024-2027."""


def _settings() -> Settings:
    return get_settings()


@main.command()
def load() -> None:
    """(Re)build the embedded store from ontology/ and data/ (PVPP_DATA_DIR)."""
    from pvpp_kg.store.loader import build, open_stores

    settings = _settings()
    try:
        report = build(settings, *open_stores(settings))
    except InputError as e:
        _fail(e.message)
    except PvppError as e:
        _fail(e.message)
    click.echo(f"loaded {report.sources} sources in {report.seconds:.2f} s into {settings.data_dir}")
    _print_counts(report.counts)


main.add_command(load, name="reload")


def _print_counts(counts: dict[str, int]) -> None:
    width = max((len(g) for g in counts), default=10)
    for graph, n in counts.items():
        click.echo(f"{graph:<{width}}  {n:>10,}")
    click.echo(f"{'total':<{width}}  {sum(counts.values()):>10,}")


@main.command()
def stats() -> None:
    """Print triple counts per named graph (builds the store first if it does not exist)."""
    from pvpp_kg.store.loader import ensure_loaded

    try:
        store, _ = ensure_loaded(_settings())
    except PvppError as e:
        _fail(e.message)
    _print_counts(store.graph_counts())


@main.command()
@click.option("--out", "out", type=click.Path(file_okay=False), required=True, help="output directory")
def docs(out: str) -> None:
    """Write the ontology documentation (pyLODE, lv and en) and the ontology as Turtle to OUT."""
    from pathlib import Path

    from pvpp_kg.lod.ontodoc import write_docs
    from pvpp_kg.store.loader import ontology_graph

    try:
        written = write_docs(ontology_graph(_settings()), Path(out))
    except PvppError as e:
        _fail(e.message)
    for path in written:
        click.echo(f"wrote {path}")


@main.command()
@click.option("--host", default=None, help="bind address (PVPP_HOST, default 127.0.0.1)")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="port (PVPP_PORT, default 8000)")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="server processes (PVPP_WORKERS)")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Run the SPARQL endpoint and linked-data site on the embedded store (built on first start)."""
    import subprocess

    import uvicorn

    from pvpp_kg.store.embedded import EmbeddedStore

    settings = _settings()
    try:  # refused here with one line, not by the server's start-up with a traceback
        read_institution_tokens(settings.institution_tokens_file)
    except InputError as e:
        _fail(e.message)
    if settings.remote_query_url is None and not EmbeddedStore(settings.data_dir / "public").exists():
        # first start: build in a child process, so this (supervisor) process never holds the loader's memory
        built = subprocess.run([sys.executable, "-m", "pvpp_kg", "load"], check=False)
        if built.returncode:
            sys.exit(built.returncode)
    uvicorn.run(
        "pvpp_kg.web.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_level="info",
        access_log=settings.access_log,
    )


@main.command()
@click.option("--preset", default="tiny", show_default=True, help="tiny | national | eu (data/generator/presets.json)")
@click.option("--seed", type=int, default=1, show_default=True, help="same seed and preset, same bytes")
@click.option(
    "--violations",
    type=float,
    default=0.0,
    show_default=True,
    help="share of services that break one rule each (listed in FILE.violations.json)",
)
@click.option(
    "--scale",
    type=float,
    default=1.0,
    show_default=True,
    help="multiply the preset's generated bodies (0.5: half the generated institutions and services)",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="N-Quads file to write")
@click.option("--quiet", is_flag=True, help="no progress on stderr")
def generate(preset: str, seed: int, violations: float, scale: float, out: Path, quiet: bool) -> None:
    """Write a synthetic PVPP dataset (real institutions + generated bodies and services) as N-Quads."""
    from pvpp_kg.policy.generate import generate_file, stderr_progress, violations_path

    try:
        report = generate_file(
            preset, out, seed=seed, violations=violations, scale=scale, progress=None if quiet else stderr_progress
        )
    except ValueError as e:
        _fail(str(e))
    click.echo(
        f"{out}: {report.triples:,} quads, {report.institutions:,} institutions, {report.services:,} services "
        f"in {report.seconds:.1f} s"
    )
    if violations > 0:
        click.echo(f"{len(report.violations)} violations listed in {violations_path(out)}")


@main.command(name="load-data")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--quiet", is_flag=True, help="no progress on stderr")
@click.option(
    "--graph",
    metavar="IRI",
    help="the named graph for triples without one (Turtle, N-Triples, RDF/XML, JSON-LD); "
    "e.g. https://w3id.org/pvpp/graph/institution/KEY",
)
def load_data(files: tuple[Path, ...], quiet: bool, graph: str | None) -> None:
    """Add dataset files (N-Quads/TriG, or triples with --graph) to the store in one atomic write and materialise
    them."""
    from pvpp_kg.policy.generate import stderr_progress
    from pvpp_kg.store.dataload import load_data as load

    settings = _settings()
    try:
        report = load(settings, files, graph=graph, progress=None if quiet else stderr_progress)
    except PvppError as e:
        _fail(e.message)
    click.echo(f"loaded {report.files} file(s) in {report.seconds:.2f} s into {settings.data_dir}")
    click.echo(f"{report.graphs:,} graphs, {report.triples:,} triples")


@main.command()
def revalidate() -> None:
    """Validate every institution's stored data against the current profile and publish the measurements."""
    from pvpp_kg.store.loader import ensure_loaded
    from pvpp_kg.validation.compliance import Moved
    from pvpp_kg.validation.compliance import revalidate as run

    settings = _settings()
    try:
        store, _ = ensure_loaded(settings)
        summary = run(settings, store)
    except PvppError as e:
        _fail(e.message)
    except Moved as e:  # a running server kept publishing new data: nothing was written, nothing is wrong
        _fail(f"{e}; nothing was written, run it again", 1)
    national = "–" if summary.national is None else f"{summary.national:.3f}"
    click.echo(
        f"{summary.measured} of {summary.institutions} institutions measured, {summary.results:,} open results, "
        f"national score {national}, {summary.replaced} compliance graph(s) rewritten, in {summary.seconds:.2f} s"
    )


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--lang", type=click.Choice(["lv", "en"]), default="en", show_default=True, help="message language")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "turtle", "html"]),
    default="text",
    show_default=True,
    help="report format",
)
@click.option(
    "--shapes",
    "shapes_files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="a SHACL shapes file of your own (repeatable); validated beside the policy shapes",
)
@click.option("--no-policy", is_flag=True, help="only --shapes, on the data alone (no PVPP/CPSV-AP, no reference data)")
@click.option(
    "--store",
    "with_store",
    is_flag=True,
    help="with the other institutions' stored data the files link to, as POST /validate does "
    "(the store at PVPP_DATA_DIR, or the remote store)",
)
def validate(
    files: tuple[Path, ...], lang: str, fmt: str, shapes_files: tuple[Path, ...], no_policy: bool, with_store: bool
) -> None:
    """Validate data files (RDF or the spreadsheet template) with the reference data; exit 0 conforms,
    1 violations, 2 unusable input or ill-formed shapes. Without --store the files are read alone: a life
    situation or post described only in another institution's stored data is then unknown to them."""
    import json

    from pvpp_kg.validation.parse import parse_files
    from pvpp_kg.validation.report import report_html, report_json, report_rdf, report_text, sheet_report, with_rules
    from pvpp_kg.validation.spreadsheet import SheetErrors
    from pvpp_kg.validation.validator import user_shapes, validator_for

    settings = _settings()
    if no_policy and not shapes_files:
        _fail("--no-policy needs at least one --shapes file to validate against")
    if no_policy and with_store:
        _fail("--store gives the policy's rules the stored context; --no-policy validates the files alone")
    try:
        unread = None
        try:
            graph = parse_files(files, settings)
        except SheetErrors as e:  # refused cells: reported with the rules on the rows read, as /validate does
            graph, unread = e.document, sheet_report(e.problems, lang)
        shapes = (
            user_shapes((str(f), parse_files([f], settings).graph()) for f in shapes_files) if shapes_files else None
        )
        validator = validator_for(settings)
        if no_policy:
            assert shapes is not None
            report = validator.validate_alone(graph, shapes, lang=lang)
        else:
            context = _stored_context(settings, graph) if with_store else None
            report = validator.validate(graph, lang=lang, extra_shapes=shapes, extra_context=context)
        report = report.located(graph.origin)  # a spreadsheet's results at their cells
        if unread is not None:
            report = with_rules(unread, report)
    except PvppError as e:
        _fail(e.in_language(lang))
    if fmt == "json":
        click.echo(json.dumps(report_json(report), ensure_ascii=False, indent=2))
    elif fmt == "turtle":
        click.echo(report_rdf(report, "turtle"))
    elif fmt == "html":
        click.echo(report_html(report))
    else:
        click.echo(report_text(report), nl=False)
    sys.exit(0 if report.conforms else 1)


def _stored_context(settings: Settings, data: Document) -> bytes | None:
    """The stored data of other institutions that ``data`` links to (``validation.neighbourhood``), read as the
    server reads it for POST /validate: for the institution that owns all the files' services, if one does."""
    import asyncio

    from pvpp_kg.store.loader import make_backend
    from pvpp_kg.validation.neighbourhood import neighbourhood, sole_owner

    whose = sole_owner(data)
    if whose is None:
        return None
    backend = make_backend(settings)
    try:
        return asyncio.run(neighbourhood(settings, backend, whose, data))
    finally:
        backend.close()


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="directory for pvpp-template.xlsx and one CSV per sheet",
)
def template(out: Path) -> None:
    """Write the spreadsheet template institutions fill in (XLSX, and the same sheets as CSV)."""
    from pvpp_kg.validation.spreadsheet import write_template

    try:
        paths = write_template(out)
    except OSError as e:
        _fail(f"{out}: {e.strerror}")
    for p in paths:
        click.echo(str(p))
