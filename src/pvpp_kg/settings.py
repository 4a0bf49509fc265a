"""All configuration in one place; every field can be overridden by a ``PVPP_*`` environment variable."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Server, store and limit settings (env prefix ``PVPP_``, e.g. ``PVPP_PORT=9000``)."""

    model_config = SettingsConfigDict(env_prefix="PVPP_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, description="uvicorn worker processes")
    access_log: bool = Field(
        False,
        description="log every request (uvicorn's access log); off by default: "
        "client IP addresses are personal data, and the log line is paid on every point lookup",
    )
    query_workers: int | None = Field(
        None,
        description="queries evaluated at once (threads of the query "
        "process) per server process (default: 32 / workers, at least 4)",
    )
    query_nice: int = Field(
        5,
        ge=0,
        le=19,
        description="niceness added to the query process, so the web "
        "process that relays requests is scheduled before busy query threads",
    )
    inline_query_ms: float = Field(
        5.0,
        ge=0,
        description="a query the query process answered within this many ms "
        "is evaluated in the web process when asked again on the same data (no process "
        "hop; 0: never)",
    )
    query_allocator: str | None = Field(
        None,
        description="malloc library preloaded into the query and validation processes: "
        "default jemalloc if installed, 'system' for glibc, or a path",
    )

    data_dir: Path = Field(PROJECT_ROOT / "var" / "store", description="embedded store directory")
    dumps_dir: Path | None = Field(None, description="dump files (default: {data_dir}/dumps), rebuilt on change")
    ontology_dir: Path = PROJECT_ROOT / "ontology"
    shapes_dir: Path = PROJECT_ROOT / "shapes"
    queries_dir: Path = PROJECT_ROOT / "queries"
    source_dir: Path = Field(PROJECT_ROOT / "data", description="reference data, institutions, sample")
    include_sample: bool = Field(True, description="load data/sample/ into the store")

    remote_query_url: str | None = Field(None, description="remote SPARQL query endpoint (remote mode)")
    remote_update_url: str | None = None
    remote_store_url: str | None = Field(None, description="remote Graph Store Protocol endpoint")

    base_iri: str = "https://w3id.org/pvpp/"
    public_url: str | None = Field(None, description="external URL of this server, if not derived from requests")

    admin_token_sha256: str | None = Field(None, description="sha256 hex digest of the admin bearer token")
    admin_token: str | None = Field(None, description="plain admin token (hashed on start; prefer the digest)")
    institution_tokens_file: Path | None = Field(None, description="JSON {institution key: sha256 hex}")

    session_secret: str | None = Field(
        None,
        description="key that signs the browser session cookie of a signed-in institution (default: a random key "
        "made on the first start and kept in {data_dir}/sessions/secret, shared by every worker)",
    )
    session_max_age_s: int = Field(8 * 3600, description="how long a browser sign-in lasts")
    session_cookie_secure: bool = Field(
        True, description="send the session cookie only over HTTPS (browsers treat http://localhost as secure)"
    )
    pending_max: int = Field(64, description="validated uploads kept for their downloads, fix-it and confirmation")
    pending_ttl_s: int = Field(
        3600, description="how long a validated upload is kept for them (files in {data_dir}/pending, every worker's)"
    )

    query_timeout_s: float = 30.0
    max_result_bytes: int = Field(200 * 1024 * 1024, description="cap on one serialised query result")
    max_body_bytes: int = 50 * 1024 * 1024
    max_concurrent_validations: int = 4
    max_sheet_rows: int = Field(100_000, description="rows one spreadsheet sheet may have")
    max_sheet_cells: int = Field(1_000_000, description="cells one workbook may have")
    max_inflated_bytes: int = Field(64 * 1024 * 1024, description="bytes one XLSX package may expand to")
    validation_threads: int | None = Field(
        None, ge=1, description="threads one validation runs its SHACL queries on (default: the number of cores)"
    )
    validation_timeout_s: float = Field(
        300.0, description="a validation requested over HTTP running longer is stopped (its process restarted)"
    )
    validation_crash_marker: str | None = Field(
        None,
        description="test hook: the validation process aborts on a document holding this text; on one holding it "
        "followed by #measure, while measuring an accepted submission; the start-up revalidation on a store holding "
        "<{marker}#revalidate> as a subject (crash tests)",
    )
    max_services_per_person: int = Field(10, description="SHACL warning when one person manages more services")
    submission_pause_s: float = Field(0.0, description="test hook: pause inside the submission write (crash tests)")
    allow_service: bool = Field(False, description="allow SPARQL SERVICE federation (fetches remote URLs)")
    refuse_personal_data: bool = Field(
        True,
        description="refuse an administrator's write (update, Graph Store, load-data) that would leave people's names "
        "or contacts in the public store; off only for a store of others' test data (the W3C SPARQL suite's)",
    )
    revalidate_on_start: bool = Field(
        True, description="at start-up, revalidate every institution in the background if the profile changed"
    )
    revalidation_timeout_s: float = Field(
        3600.0, description="the start-up revalidation running longer is stopped (the old figures stay)"
    )

    def query_pool_size(self) -> int:
        """Many more query threads than cores, time-sliced by the OS as Oxigraph server's thread per request is.

        Why not one per core: then a point lookup queues behind heavy queries, and heavy throughput is lower.
        The bound keeps memory bounded.
        """
        if self.query_workers is not None:
            return max(1, self.query_workers)
        return max(4, 32 // max(1, self.workers))


@lru_cache
def get_settings() -> Settings:
    return Settings()


def read_institution_tokens(path: Path | None) -> dict[str, str]:
    """``PVPP_INSTITUTION_TOKENS_FILE``: {institution key: sha256 hex}. Here, beside the settings, so that ``serve``
    can refuse an unreadable file with one line before the server starts, as the server itself refuses it."""
    from pvpp_kg.errors import InputError

    if path is None:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"cannot read institution tokens: {e}", source=str(path)) from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise InputError("institution tokens must be a JSON object {key: sha256 hex}", source=str(path))
    return data
