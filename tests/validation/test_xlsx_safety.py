"""Uploaded workbooks are XML inside a ZIP: entity expansion and external entities must be refused, not run."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pvpp_kg.errors import InputError
from pvpp_kg.validation.spreadsheet import write_workbook, xlsx_to_graph

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOMB = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
EXTERNAL = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY ext SYSTEM "file:///etc/passwd">]>'


def _poisoned(tmp_path: Path, prolog: bytes) -> bytes:
    """A real template workbook whose first sheet's XML starts with a DOCTYPE declaring entities."""
    path = tmp_path / "template.xlsx"
    write_workbook(path)
    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = prolog + (data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data)
            dst.writestr(item, data)
    return out.getvalue()


@pytest.mark.parametrize("prolog", [BOMB, EXTERNAL], ids=["entity-expansion", "external-entity"])
def test_entities_in_a_workbook_are_refused(tmp_path: Path, prolog: bytes, client: TestClient) -> None:
    data = _poisoned(tmp_path, prolog)
    with pytest.raises(InputError):
        xlsx_to_graph(data)
    r = client.post("/validate", content=data, headers={"Content-Type": XLSX})
    assert r.status_code == 400 and r.json()["message"] and "root:" not in r.text
