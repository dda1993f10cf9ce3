"""Bearer tokens for the tools people use (supervisors, agents' desks), compared safely."""

import hmac
from collections.abc import Mapping

from fastapi.security import HTTPBearer
from pydantic import SecretStr

from hotline.shared.web.problems import Problem

bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <token>")


def token_owner(token: str | None, tokens: Mapping[str, SecretStr] | None) -> str | None:
    """The name the token was issued under, or None (always None when no tokens are set)."""
    if not token or not tokens:
        return None
    for name, secret in tokens.items():
        if hmac.compare_digest(token.encode(), secret.get_secret_value().encode()):
            return name
    return None


def unauthorized(detail: str) -> Problem:
    """A 401 problem that tells the client to send a bearer token."""
    return Problem(
        401, "unauthorized", detail, field="Authorization", headers={"WWW-Authenticate": "Bearer"}
    )
