"""Validated uploads kept for a while: their report downloads, the fix-it workbook and, for a signed-in
institution's accepted preview, the confirmation. Each is named by an unguessable id; one made by a signed-in
institution is that institution's only. Bounded in number, bytes and age (settings ``pending_*``).

Why on disk (``{data_dir}/pending/{id}.kept``): the server may run several worker processes, and the preview, the
downloads and the confirmation of one upload can each reach a different one; a restart keeps them too. A file is
written whole under a temporary name, then renamed; a confirmation takes its upload by renaming the file first, so
of two workers confirming the same upload at once only one stores it. The files are pickles the server wrote
itself into its own data directory (the report, the parsed document and the diff, exactly as they were made),
read back only by ids of the form it issues.
"""

from __future__ import annotations

import io
import os
import pickle
import re
import secrets
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pvpp_kg.errors import Forbidden, NotFound
from pvpp_kg.validation.parse import Document
from pvpp_kg.validation.report import Report

_ID = re.compile(r"^[A-Za-z0-9_-]{24}$")  # secrets.token_urlsafe(18)
_SUFFIX = ".kept"
_STORED = ".stored"  # beside a confirmed upload's id: the version it was stored as
_GONE = "this validation is no longer kept (they are kept for an hour): upload the file again"


@dataclass
class Kept:
    id: str
    institution: str | None  # who made it (a session's institution), or None for an anonymous validation
    data: bytes
    filename: str | None
    report: Report
    document: Document | None = None  # kept only for a preview that may be confirmed
    diff: Any = None
    created: float = 0.0
    based_on: int | None = None  # the institution's stored version the preview compared with (None: none yet)

    @property
    def is_xlsx(self) -> bool:
        """A workbook (a zip package with ``xl/workbook.xml``; a zip of CSV files is not one)."""
        if self.data[:2] != b"PK":
            return False
        try:
            with zipfile.ZipFile(io.BytesIO(self.data)) as z:
                return "xl/workbook.xml" in z.namelist()
        except (zipfile.BadZipFile, ValueError, OSError):
            return False


class Pending:
    """The kept uploads of every worker of one server: files in ``directory``."""

    def __init__(self, directory: Path, max_items: int, ttl_s: float, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.directory, self.max_items, self.ttl_s, self.max_bytes = directory, max_items, ttl_s, max_bytes
        directory.mkdir(parents=True, exist_ok=True)

    def _path(self, id_: str) -> Path:
        if not _ID.match(id_):
            raise NotFound(_GONE)
        return self.directory / f"{id_}{_SUFFIX}"

    def add(self, upload: Kept) -> Kept:
        if not upload.is_xlsx:
            upload.data = b""  # only a workbook is needed again (for its fix-it copy)
            upload.filename = None
        upload.id = secrets.token_urlsafe(18)
        upload.created = time.time()
        self._write(upload)
        self._expire()
        return upload

    def _write(self, upload: Kept) -> None:
        path = self._path(upload.id)
        tmp = path.with_name(f".{upload.id}.{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(upload, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, path)

    def get(self, id_: str, institution: str | None) -> Kept:
        return self._check(self._read(self._path(id_)), institution)

    def take(self, id_: str, institution: str | None) -> Kept:
        """The upload, removed so that no other request (in any worker) can take it too; :meth:`put_back` if
        what it was taken for failed. It is claimed (renamed) first and read once; another institution's upload
        is renamed back and stays for its owner."""
        path = self._path(id_)
        claimed = path.with_name(f".{id_}.{os.getpid()}.{secrets.token_hex(4)}.taken")
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            raise NotFound(_GONE) from None
        try:
            found = self._read(claimed)
            try:
                return self._check(found, institution)
            except Forbidden:
                os.rename(claimed, path)  # not this session's to take: it stays for its owner
                raise
        finally:
            claimed.unlink(missing_ok=True)

    def put_back(self, upload: Kept) -> None:
        self._write(upload)

    def stored(self, id_: str, institution: str, version: int) -> None:
        """Remember, as long as an upload is kept, that it was confirmed and stored as ``version``: the same form
        sent again (a double click, the back button) then finds that version instead of "no longer kept"."""
        path = self._path(id_).with_suffix(_STORED)
        tmp = path.with_name(f".{id_}.{os.getpid()}.tmp")
        tmp.write_text(f"{institution} {version}", encoding="utf-8")
        os.replace(tmp, path)

    def stored_as(self, id_: str, institution: str) -> int | None:
        """The version ``institution``'s confirmed upload was stored as, if it was and is still remembered."""
        try:
            path = self._path(id_).with_suffix(_STORED)
            if time.time() - path.stat().st_mtime > self.ttl_s:
                return None
            owner, version = path.read_text(encoding="utf-8").split()
        except (NotFound, OSError, ValueError):
            return None
        return int(version) if owner == institution else None

    def _read(self, path: Path) -> Kept:
        try:
            if time.time() - path.stat().st_mtime > self.ttl_s:
                raise NotFound(_GONE)
            found = pickle.loads(path.read_bytes())  # noqa: S301 - written by this server into its data dir
        except (FileNotFoundError, EOFError, pickle.UnpicklingError):
            raise NotFound(_GONE) from None
        if not isinstance(found, Kept):
            raise NotFound(_GONE)
        return found

    @staticmethod
    def _check(found: Kept, institution: str | None) -> Kept:
        if found.institution is not None and found.institution != institution:
            raise Forbidden("this upload belongs to another institution's session")
        return found

    def _expire(self) -> None:
        """Expired files go, then the oldest while there are too many or they are too large together."""
        now = time.time()
        files = []
        for path in self.directory.iterdir():
            try:
                st = path.stat()
            except FileNotFoundError:  # another worker removed it meanwhile
                continue
            if now - st.st_mtime > self.ttl_s or (path.name.startswith(".") and now - st.st_mtime > 600):
                path.unlink(missing_ok=True)  # expired, or a temporary file a crashed write left
            elif path.suffix == _SUFFIX:
                files.append((st.st_mtime, st.st_size, path))
        files.sort()
        total = sum(size for _, size, _ in files)
        while files and (len(files) > self.max_items or (len(files) > 1 and total > self.max_bytes)):
            _, size, path = files.pop(0)
            path.unlink(missing_ok=True)
            total -= size
