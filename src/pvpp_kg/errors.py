"""The pvpp-kg error tree; HTTP mapping lives in ``web/handlers.py``, CLI mapping in ``cli.py``.

PvppError
 ├── BadRequest               (400: malformed query, bad parameter, unusable input)
 │    ├── QuerySyntaxError    (the SPARQL parser's message)
 │    ├── UpdateNotAllowed    (an update sent to the query endpoint)
 │    ├── ServiceNotAllowed   (SERVICE federation while it is off)
 │    └── InputError          (an uploaded document that cannot be used; names file, line, column)
 ├── NotAcceptable            (406: no offered format matches Accept)
 ├── Unauthorized / Forbidden (401 / 403: missing or wrong token, someone else's graph)
 ├── NotFound                 (404)
 ├── PayloadTooLarge          (413: body or result over the configured limit)
 ├── QueryTimeout             (503: the query ran past the timeout and was stopped)
 └── BackendUnavailable       (503: store or remote endpoint not reachable)
"""

from __future__ import annotations


class PvppError(Exception):
    status = 500
    code = "error"
    messages: dict[str, str] = {}  # read-only default: an error without a Latvian text

    def __init__(self, message: str, *, lv: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.messages = {"en": message, "lv": lv} if lv else {}  # an institution's clerk reads Latvian

    def in_language(self, lang: str | None) -> str:
        """The message in ``lang`` where the error has one (lv), else the English one."""
        return self.messages.get(lang or "", self.message)


class BadRequest(PvppError):
    status = 400
    code = "bad_request"


class QuerySyntaxError(BadRequest):
    code = "query_syntax"


class UpdateNotAllowed(BadRequest):
    code = "update_not_allowed"


class ServiceNotAllowed(BadRequest):
    code = "service_not_allowed"


class InputError(BadRequest):
    """An input document that cannot be used; ``location`` is "file:line:column" where known."""

    code = "invalid_input"

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
        lv: str | None = None,
    ) -> None:
        where = ":".join(str(x) for x in (source, line, column) if x is not None)
        # an upload without a file name is "the request body", in Latvian too
        where_lv = where.replace("request body", "pieprasījuma saturs", 1) if source == "request body" else where
        lv_text = (f"{where_lv}: {lv}" if where else lv) if lv else None
        super().__init__(f"{where}: {message}" if where else message, lv=lv_text)
        self.source, self.line, self.column = source, line, column


class NotAcceptable(PvppError):
    status = 406
    code = "not_acceptable"


class Unauthorized(PvppError):
    status = 401
    code = "unauthorized"


class InvalidToken(Unauthorized):
    """A bearer token that is no one's: 401 with ``error="invalid_token"`` (RFC 6750 §3.1). A valid token that may
    not do the thing asked is a :class:`Forbidden`."""

    code = "invalid_token"


class Forbidden(PvppError):
    status = 403
    code = "forbidden"


class NotFound(PvppError):
    status = 404
    code = "not_found"


class Conflict(PvppError):
    status = 409
    code = "conflict"


class PayloadTooLarge(PvppError):
    status = 413
    code = "too_large"


class UnsupportedMediaType(PvppError):
    status = 415
    code = "unsupported_media_type"


class QueryTimeout(PvppError):
    status = 503
    code = "timeout"


class BackendUnavailable(PvppError):
    status = 503
    code = "backend_unavailable"
