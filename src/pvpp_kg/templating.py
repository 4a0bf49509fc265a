"""The Jinja2 environment for every HTML page (plain HTML, local assets only)."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

TEMPLATES = Path(__file__).parent / "web" / "templates"  # beside the web app that serves them
templates = Jinja2Templates(directory=str(TEMPLATES))
