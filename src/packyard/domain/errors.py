"""One error hierarchy. The web layer maps each class to a status code in one place."""

from __future__ import annotations


class PackyardError(Exception):
    """Base of every error packyard reports to a user; the message is shown as is."""


class InvalidInput(PackyardError, ValueError):
    """The request or file is malformed or inconsistent (HTTP 400)."""


class InvalidName(InvalidInput):
    """A project or index name is not valid."""


class InvalidFilename(InvalidInput):
    """A distribution filename cannot be parsed or is not allowed."""


class InvalidMetadata(InvalidInput):
    """Core metadata is missing, malformed or disagrees with the filename or form."""


class InvalidArchive(InvalidInput):
    """An archive is corrupt, hostile (traversal, bomb, links) or lacks required members."""


class DigestMismatch(InvalidInput):
    """A digest sent with an upload does not match the bytes received."""


class NotFound(PackyardError, LookupError):
    """The index, project, release or file does not exist (HTTP 404)."""


class Conflict(PackyardError):
    """The change contradicts what is stored (HTTP 409 unless said otherwise)."""


class FileExists(Conflict):
    """Other bytes are already stored under this filename (HTTP 400, as warehouse)."""


class Unauthorized(PackyardError):
    """No valid credentials were given (HTTP 401 with a Basic challenge)."""


class Forbidden(PackyardError):
    """The caller is known but may not do this (HTTP 403)."""


class TooLarge(PackyardError):
    """The upload is larger than the configured maximum (HTTP 413)."""


class Gone(PackyardError):
    """The action is not offered any more (HTTP 410)."""


class RateLimited(PackyardError):
    """Too many attempts (HTTP 429 with Retry-After)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
