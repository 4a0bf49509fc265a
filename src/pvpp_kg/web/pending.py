"""Validated uploads kept for a while in this server process: their report downloads, the fix-it workbook and,
for a signed-in institution's accepted preview, the confirmation. Each is named by an unguessable id; one made
by a signed-in institution is that institution's only. Bounded in number and age (settings ``pending_*``)."""

from __future__ import annotations

import io
import secrets
import threading
import time
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from pvpp_kg.errors import Forbidden, NotFound
from pvpp_kg.validation.parse import Document
from pvpp_kg.validation.report import Report


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
    def __init__(self, max_items: int, ttl_s: float, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.max_items, self.ttl_s, self.max_bytes = max_items, ttl_s, max_bytes
        self._items: OrderedDict[str, Kept] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, upload: Kept) -> Kept:
        if not upload.is_xlsx:
            upload.data = b""  # only a workbook is needed again (for its fix-it copy)
            upload.filename = None
        upload.id = secrets.token_urlsafe(18)
        upload.created = time.monotonic()
        with self._lock:
            self._items[upload.id] = upload
            self._expire()
            while len(self._items) > self.max_items or (
                len(self._items) > 1 and sum(len(u.data) for u in self._items.values()) > self.max_bytes
            ):
                self._items.popitem(last=False)
        return upload

    def get(self, id_: str, institution: str | None) -> Kept:
        with self._lock:
            self._expire()
            found = self._items.get(id_)
        if found is None:
            raise NotFound("this validation is no longer kept (they are kept for an hour): upload the file again")
        if found.institution is not None and found.institution != institution:
            raise Forbidden("this upload belongs to another institution's session")
        return found

    def pop(self, id_: str, institution: str | None) -> Kept:
        found = self.get(id_, institution)
        with self._lock:
            self._items.pop(id_, None)
        return found

    def _expire(self) -> None:
        now = time.monotonic()
        while self._items:
            first = next(iter(self._items.values()))
            if now - first.created <= self.ttl_s:
                break
            self._items.popitem(last=False)
