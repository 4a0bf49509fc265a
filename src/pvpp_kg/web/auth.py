"""Bearer tokens: the admin token and one token per institution, kept only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from pvpp_kg.errors import Forbidden, InvalidToken, Unauthorized
from pvpp_kg.settings import Settings, read_institution_tokens


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Tokens:
    admin: str | None  # sha256 hex
    institutions: dict[str, str]  # institution key -> sha256 hex

    @classmethod
    def from_settings(cls, settings: Settings) -> Tokens:
        admin = settings.admin_token_sha256 or (digest(settings.admin_token) if settings.admin_token else None)
        return cls(admin, read_institution_tokens(settings.institution_tokens_file))

    def is_admin(self, token: str | None) -> bool:
        return bool(token and self.admin and hmac.compare_digest(digest(token), self.admin))

    def institution_for(self, token: str | None) -> str | None:
        """The institution whose token this is (compared in constant time against every digest)."""
        if not token:
            return None
        d = digest(token)
        found = None
        for key, stored in self.institutions.items():
            if hmac.compare_digest(d, stored):
                found = key
        return found


def bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def require_admin(tokens: Tokens, authorization: str | None) -> None:
    token = bearer(authorization)
    if token is None:
        raise Unauthorized("this operation needs the admin bearer token (Authorization: Bearer …)")
    if not tokens.is_admin(token):
        if tokens.institution_for(token) is None:
            raise InvalidToken("the token is not valid: neither the admin token nor an institution's")
        raise Forbidden("the token is an institution's, not the admin token")
