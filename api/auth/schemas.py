from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_FIELD = 1024  # far above any real value; the body limit applies too


class TokenRequest(BaseModel):
    """An access token request (RFC 6749 §4.3 and §4.4), form-encoded."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"grant_type": "password", "username": "kpu.kupang", "password": "correct horse battery"},
                {
                    "grant_type": "client_credentials",
                    "client_id": "integrator.silog",
                    "client_secret": "jcs_…",
                    "scope": "items:read events:read",
                },
            ]
        }
    )

    grant_type: str | None = Field(
        default=None,
        max_length=_FIELD,
        description="password (people) or client_credentials (service accounts). Deprecated: left out, "
        "a request with a username is taken as password",
    )
    username: str | None = Field(default=None, max_length=_FIELD, description="password grant: the account")
    password: str | None = Field(default=None, max_length=_FIELD, description="password grant: its password")
    client_id: str | None = Field(
        default=None, max_length=_FIELD, description="client_credentials: the service account's username, "
        "unless sent with HTTP Basic authentication (RFC 6749 §2.3.1)"
    )
    client_secret: str | None = Field(
        default=None, max_length=_FIELD, description="client_credentials: its client secret (jcs_…), unless sent with HTTP Basic"
    )
    scope: str | None = Field(
        default=None,
        max_length=_FIELD,
        description="Space-separated scopes, a subset of the account's (integrators): the token carries "
        "only these. Left out: all the account's",
    )


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int = Field(description="Seconds the token lives")
    role: str
    jurisdiction: str = Field(description='The site code the account acts within; "" is national')
    scope: str = Field(description="The scopes the token carries, space-separated (integrators; others act by role)")


class OAuthError(BaseModel):
    """An error of the token endpoint, as RFC 6749 §5.2 words it (not a problem+json)."""

    error: Literal[
        "invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type", "invalid_scope"
    ]
    error_description: str
