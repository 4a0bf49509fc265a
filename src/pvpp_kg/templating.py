"""The Jinja2 environment for every HTML page (plain HTML, local assets only)."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

TEMPLATES = Path(__file__).parent / "web" / "templates"  # beside the web app that serves them
templates = Jinja2Templates(directory=str(TEMPLATES))


def plural(n: int, lang: str, forms: str) -> str:
    """The noun (``"one|many"``) for a count: Latvian takes the singular after 1, 21, 31… but not 11 ("21
    pārkāpums", "11 pārkāpumi"), English after 1 only."""
    one, _, many = forms.partition("|")
    singular = n % 10 == 1 and n % 100 != 11 if lang == "lv" else n == 1
    return one if singular else (many or one)


def decimal(value: float, lang: str, digits: int = 2) -> str:
    """A number as its reader writes it: Latvian takes a decimal comma ("0,80"), English a point."""
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "lv" else text


templates.env.globals["plural"] = plural
templates.env.globals["decimal"] = decimal
