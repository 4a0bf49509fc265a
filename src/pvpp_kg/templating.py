"""The Jinja2 environment for every HTML page (plain HTML, local assets only)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

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


def local_time(iso: str | None, lang: str, *, date_only: bool = False) -> str:
    """A stored UTC time (``2026-12-07T17:37:11Z``) as a reader in Latvia reads it: Riga time, day first
    ("07.12.2026 19:37"; in English "07 Dec 2026 19:37"). Anything else is shown as it is."""
    try:
        moment = datetime.fromisoformat((iso or "").replace("Z", "+00:00"))
    except ValueError:
        return iso or ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(_RIGA)
    day = moment.strftime("%d.%m.%Y") if lang == "lv" else moment.strftime("%d %b %Y")
    return day if date_only else f"{day} {moment:%H:%M}"


_RIGA = ZoneInfo("Europe/Riga")
templates.env.globals["plural"] = plural
templates.env.globals["local_time"] = local_time
templates.env.globals["decimal"] = decimal
