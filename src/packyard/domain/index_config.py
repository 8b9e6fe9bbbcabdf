"""Typed views of an index's JSON settings: upstream, TTL, members, merges, policy, claims."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from packyard.domain.access import LOGGED_IN, PUBLIC, Audience
from packyard.domain.durations import format_duration
from packyard.domain.models import Index, IndexKind
from packyard.domain.names import NormalizedName
from packyard.domain.policy import Policy

DEFAULT_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class Claim:
    """An admin's statement that an internal project may use a name the upstream has."""

    project: NormalizedName
    by: str
    reason: str
    at: datetime

    def to_config(self) -> dict[str, str]:
        return {"by": self.by, "reason": self.reason, "at": self.at.isoformat()}


@dataclass(frozen=True)
class IndexSettings:
    kind: IndexKind
    upstream: str | None = None
    ttl: timedelta = DEFAULT_TTL
    offline: bool = False
    members: tuple[str, ...] = ()
    merge: frozenset[NormalizedName] = frozenset()
    policy: Policy = field(default_factory=Policy)
    claims: Mapping[NormalizedName, Claim] = field(default_factory=dict)
    readers: Audience = PUBLIC
    uploaders: Audience = LOGGED_IN

    @classmethod
    def of(cls, index: Index) -> IndexSettings:
        config = index.config
        claims = {
            NormalizedName(name): Claim(
                project=NormalizedName(name),
                by=value["by"],
                reason=value["reason"],
                at=datetime.fromisoformat(value["at"]),
            )
            for name, value in config.get("claims", {}).items()
        }
        return cls(
            kind=index.kind,
            upstream=config.get("upstream"),
            ttl=timedelta(seconds=config.get("ttl_seconds", DEFAULT_TTL.total_seconds())),
            offline=bool(config.get("offline", False)),
            members=tuple(config.get("members", ())),
            merge=frozenset(NormalizedName(n) for n in config.get("merge", ())),
            policy=Policy.from_config(config.get("policy", {})),
            claims=claims,
            readers=Audience.parse(config.get("readers", PUBLIC.text)),
            uploaders=Audience.parse(config.get("uploaders", LOGGED_IN.text)),
        )

    def to_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {}
        if self.kind is IndexKind.MIRROR:
            config.update(
                upstream=self.upstream,
                ttl_seconds=int(self.ttl.total_seconds()),
                offline=self.offline,
            )
        if self.kind is IndexKind.VIRTUAL:
            config.update(members=list(self.members), merge=sorted(self.merge))
        if not self.policy.is_empty():
            config["policy"] = self.policy.to_config()
        if self.claims:
            config["claims"] = {name: c.to_config() for name, c in sorted(self.claims.items())}
        if self.readers != PUBLIC:
            config["readers"] = self.readers.text
        if self.uploaders != LOGGED_IN:
            config["uploaders"] = self.uploaders.text
        return config

    def describe(self) -> list[tuple[str, str]]:
        """Label/value lines for `packyard index show`."""
        lines = [
            ("kind", self.kind.value),
            ("readers", self.readers.text),
            ("uploaders", self.uploaders.text),
        ]
        if self.kind is IndexKind.MIRROR:
            lines += [
                ("upstream", self.upstream or ""),
                ("ttl", format_duration(self.ttl)),
                ("offline", "yes" if self.offline else "no"),
            ]
        if self.kind is IndexKind.VIRTUAL:
            lines += [("members", ", ".join(self.members))]
            lines += [("merge", ", ".join(sorted(self.merge)) or "none")]
        policy = self.policy
        lines += [
            ("allow", ", ".join(r.text for r in policy.allow) or "everything"),
            ("deny", ", ".join(r.text for r in policy.deny) or "nothing"),
            ("min-age", format_duration(policy.min_age) if policy.min_age else "none"),
        ]
        for exemption in policy.exemptions:
            expiry = exemption.expires_at.isoformat() if exemption.expires_at else "never"
            lines.append(
                (
                    "exempt",
                    f"{exemption.project} (by {exemption.created_by}, "
                    f"expires {expiry}): {exemption.reason}",
                )
            )
        for claim in self.claims.values():
            lines.append(("claimed", f"{claim.project} (by {claim.by}): {claim.reason}"))
        return lines
