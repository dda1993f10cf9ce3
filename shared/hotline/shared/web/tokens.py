"""Bearer tokens for the tools people use (supervisors, agents' desks), compared safely."""

import hmac
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from hotline.shared.web.problems import Problem

bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <token>")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


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


def token_holder(
    tokens: Callable[[Request], Mapping[str, SecretStr] | None], detail: str
) -> Callable[[Request, HTTPAuthorizationCredentials | None], Awaitable[str]]:
    """A dependency: the name of whoever holds one of `tokens(request)`, else 401 `detail`."""

    async def holder(request: Request, credentials: Bearer) -> str:
        token = credentials.credentials if credentials else None
        if name := token_owner(token, tokens(request)):
            return name
        raise unauthorized(detail)

    return holder
