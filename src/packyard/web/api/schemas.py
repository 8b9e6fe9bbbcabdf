"""Request and response bodies of the management API.

Responses are built field by field from domain objects, never dumped from them, so a
password hash or a token digest cannot leak by a field being added to a model.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from packyard.domain.durations import parse_duration
from packyard.domain.models import IndexKind, Role, Scope

LONGEST = timedelta(days=36_525)


def _bounded(text: str) -> str:
    """A duration the clock can be moved by: at most 100 years (InvalidInput is a
    ValueError, so pydantic answers 422 with its message)."""
    if parse_duration(text) > LONGEST:
        raise ValueError(f"{text!r} is too long: at most 100 years (36525d)")
    return text


Name = Annotated[str, Field(min_length=1, max_length=200)]
Duration = Annotated[
    str,
    Field(pattern=r"^[0-9]{1,9}[smhdw]$", examples=["30d"]),
    AfterValidator(_bounded),
]
Text = Annotated[str, Field(max_length=1000)]


def _url(text: str) -> str:
    """A URL urllib can take apart (bad IPv6 literals and ports raise ValueError: 422)."""
    _ = urlsplit(text).port
    return text


def _storable(value: Any) -> None:
    """JSON may escape a lone surrogate or a NUL, which no database stores (a 500 when
    found on insert), so refuse them on the way in."""
    if isinstance(value, str):
        if "\x00" in value or _has_surrogate(value):
            raise ValueError("Text must be UTF-8 without NUL characters")
    elif isinstance(value, list | tuple):
        for item in value:
            _storable(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(key)
            _storable(item)


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class Body(BaseModel):
    """A request body: unknown fields are a mistake (422), not silently ignored."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _only_storable_text(cls, data: Any) -> Any:
        _storable(data)
        return data


class ErrorBody(BaseModel):
    detail: str


class IndexCreate(Body):
    name: Name
    kind: IndexKind = IndexKind.HOSTED
    upstream: Annotated[str, Field(max_length=2000), AfterValidator(_url)] | None = None
    ttl: Duration | None = None
    members: list[Name] = []


class IndexChange(Body):
    """Only the fields given change; rules and merges are added to those already set."""

    readers: Name | None = Field(None, examples=["alice,@release-team"])
    uploaders: Name | None = Field(None, examples=["authenticated"])
    allow: list[Name] = []
    deny: list[Name] = []
    clear_rules: bool = False
    min_age: Duration | None = None
    merge: list[Name] = []
    ttl: Duration | None = None
    offline: bool | None = None


class ExemptionCreate(Body):
    project: Name
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    expires: Duration | None = None


class ClaimCreate(Body):
    project: Name
    reason: Text = ""


class ExemptionOut(BaseModel):
    project: str
    reason: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None


class PolicyOut(BaseModel):
    allow: list[str]
    deny: list[str]
    min_age: str | None
    exemptions: list[ExemptionOut]


class ClaimOut(BaseModel):
    project: str
    by: str
    reason: str
    at: datetime


class IndexOut(BaseModel):
    name: str
    kind: IndexKind
    default: bool
    readers: str
    uploaders: str
    upstream: str | None
    ttl: str | None
    offline: bool | None
    members: list[str]
    merge: list[str]
    policy: PolicyOut
    claims: list[ClaimOut]


class UserCreate(Body):
    name: Name
    password: Annotated[str, Field(min_length=8, max_length=1000)]
    admin: bool = False


class UserChange(Body):
    disabled: bool | None = None
    password: Annotated[str | None, Field(min_length=8, max_length=1000)] = None


class UserOut(BaseModel):
    name: str
    admin: bool
    disabled: bool
    created: datetime | None


class TeamCreate(Body):
    name: Name


class TeamOut(BaseModel):
    name: str
    members: list[str]
    created: datetime | None


class TokenCreate(Body):
    user: Name | None = Field(None, description="Whose token; default: the caller's.")
    scopes: list[Scope] = Field([Scope.READ, Scope.UPLOAD], min_length=1)
    indexes: list[Name] = Field([], description="Empty: every index.")
    projects: list[Name] = Field([], description="Empty: every project.")
    expires: Duration | None = Field(None, description="Lifetime; none: no expiry.")
    description: Text = ""


class TokenOut(BaseModel):
    id: str
    prefix: str = Field(description="The secret's first characters, to recognise it.")
    user: str
    scopes: list[Scope]
    indexes: list[str]
    projects: list[str]
    expires_at: datetime | None
    description: str
    created: datetime | None
    last_used: datetime | None


class CreatedToken(TokenOut):
    secret: str = Field(description="Shown this once: the password to use with __token__.")


class RoleChange(Body):
    principal: Annotated[str, Field(min_length=1, max_length=200, examples=["alice", "@team"])]
    role: Role


class RoleOut(BaseModel):
    principal: str
    role: Role


class YankRequest(Body):
    filename: Name | None = Field(None, description="Only this file of the release.")
    reason: Text = ""


class UnyankRequest(Body):
    filename: Name | None = Field(None, description="Only this file of the release.")


class FileOut(BaseModel):
    filename: str
    version: str
    yanked: bool
    yanked_reason: str


class AuditRow(BaseModel):
    time: str
    action: str
    actor: str
    address: str | None
    index: str | None
    project: str | None
    version: str | None
    filename: str | None
    detail: dict[str, Any] | None
    serial: int | None = None


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error statuses an operation can answer."""
    return {code: {"model": ErrorBody, "description": _ERRORS[code]} for code in codes}


_ERRORS = {
    400: "Invalid input (the detail says what to change)",
    401: "No or wrong credentials",
    403: "Known caller, not allowed; or a cross-site request",
    404: "No such resource",
    409: "Conflicts with what is stored (e.g. the name exists)",
    429: "Too many failed logins",
}

# Every operation authenticates (and may be refused); the WWW-Authenticate challenge is
# what pip's keyring and netrc flows react to.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    **errors(400, 403, 429),
    401: {
        "model": ErrorBody,
        "description": _ERRORS[401],
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
}
