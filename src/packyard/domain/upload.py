"""Rules for warehouse's legacy upload form (what twine, uv, flit and poetry send)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from packyard.domain.errors import DigestMismatch, Gone, InvalidInput
from packyard.domain.models import Digests, PackageType

_ABSENT = {"", "UNKNOWN"}
DOC_UPLOAD = "doc_upload"


@dataclass(frozen=True)
class UploadForm:
    """The form fields packyard reads; the metadata itself comes from the file."""

    name: str | None = None
    version: str | None = None
    filetype: str | None = None
    pyversion: str | None = None
    md5_digest: str | None = None
    sha256_digest: str | None = None
    blake2_256_digest: str | None = None

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> UploadForm:
        """Validate the action and protocol, keep the fields that matter, ignore the rest."""
        action = fields.get(":action")
        if action == "submit":
            raise Gone(
                f"The {action!r} action is not supported by this index; "
                "upload distribution files with ':action=file_upload'"
            )
        if action == DOC_UPLOAD:
            raise InvalidInput("':action=doc_upload' uploads documentation, not a file")
        if action != "file_upload":
            raise InvalidInput(f"Unknown or missing ':action' {action!r}; expected 'file_upload'")
        if fields.get("protocol_version", "1") != "1":
            raise InvalidInput(
                f"Unknown protocol_version {fields.get('protocol_version')!r}; only 1 is supported"
            )

        def value(key: str) -> str | None:
            raw = fields.get(key)
            return None if raw is None or raw.strip() in _ABSENT else raw.strip()

        return cls(
            name=value("name"),
            version=value("version"),
            filetype=value("filetype"),
            pyversion=value("pyversion"),
            md5_digest=value("md5_digest"),
            sha256_digest=value("sha256_digest"),
            blake2_256_digest=value("blake2_256_digest"),
        )

    def check_filetype(self, packagetype: PackageType) -> None:
        if self.filetype is None:
            return
        if self.filetype not in {PackageType.SDIST, PackageType.WHEEL}:
            raise InvalidInput(
                f"Unsupported filetype {self.filetype!r}: upload 'sdist' or 'bdist_wheel' files"
            )
        if self.filetype != packagetype:
            raise InvalidInput(
                f"The filetype {self.filetype!r} does not match the file, which is a "
                f"{packagetype.value}"
            )

    def check_digests(self, actual: Digests) -> None:
        """Every digest sent must match; a client that sends none is trusted to TLS."""
        sent = (
            ("md5_digest", self.md5_digest, actual.md5),
            ("sha256_digest", self.sha256_digest, actual.sha256),
            ("blake2_256_digest", self.blake2_256_digest, actual.blake2b_256),
        )
        for field, claimed, real in sent:
            if claimed is not None and not hmac.compare_digest(claimed.lower(), real):
                raise DigestMismatch(
                    f"The {field} sent with the upload ({claimed}) does not match the file "
                    f"received ({real}); the file was corrupted on the way, try again"
                )


@dataclass(frozen=True)
class DocUploadForm:
    """`:action=doc_upload`, as older tooling sends a zip of a built documentation site;
    without a version, the docs are the latest release's."""

    name: str
    version: str | None = None

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> DocUploadForm:
        name = fields.get("name", "").strip()
        if name in _ABSENT:
            raise InvalidInput("The documentation upload has no 'name': send the project's name")
        version = fields.get("version", "").strip()
        return cls(name=name, version=None if version in _ABSENT else version)
