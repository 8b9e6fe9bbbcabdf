"""Create, configure and choose indexes: hosted, mirror and virtual."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from packyard.domain.access import Audience
from packyard.domain.errors import Conflict, InvalidInput, NotFound
from packyard.domain.index_config import Claim, IndexSettings
from packyard.domain.models import Event, Index, IndexKind
from packyard.domain.names import validate_index_name, validate_project_name, validate_text
from packyard.domain.policy import Exemption, Rule
from packyard.ports import UnitOfWork, UnitOfWorkFactory
from packyard.services.changes import record_change

DEFAULT_HOSTED = "hosted"
DEFAULT_MIRROR = "upstream"
DEFAULT_VIRTUAL = "root"


def create_index(
    *,
    uow_factory: UnitOfWorkFactory,
    name: str,
    kind: IndexKind,
    actor: str,
    upstream: str | None = None,
    ttl: timedelta | None = None,
    members: Sequence[str] = (),
    address: str | None = None,
) -> Index:
    settings = IndexSettings(kind=kind)
    if kind is IndexKind.MIRROR:
        settings = replace(settings, upstream=validate_upstream(upstream))
        if ttl is not None:
            settings = replace(settings, ttl=ttl)
    elif upstream is not None or ttl is not None:
        raise InvalidInput("--upstream and --ttl apply to mirror indexes only")
    if kind is IndexKind.VIRTUAL:
        if not members:
            raise InvalidInput("A virtual index needs --members, e.g. --members hosted,upstream")
        settings = replace(settings, members=tuple(members))
    elif members:
        raise InvalidInput("--members applies to virtual indexes only")
    index = Index(name=validate_index_name(name), kind=kind, config=settings.to_config())
    with uow_factory() as uow:
        if kind is IndexKind.VIRTUAL:
            _check_members(uow, name, members)
        uow.indexes.add(index)
        record_change(uow, Event(action="index_created", actor=actor, index=name, address=address))
        uow.commit()
    return index


def validate_upstream(url: str | None) -> str:
    if not url:
        raise InvalidInput("A mirror index needs an upstream URL (--upstream)")
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError as exc:  # a bad port or bracketed host
        raise InvalidInput(f"The upstream URL is malformed: {exc}") from exc
    if parts.scheme not in {"http", "https"} or not parts.hostname or not port_ok:
        raise InvalidInput(f"The upstream {parts.scheme}://... is not an http(s) URL")
    return url if url.endswith("/") else url + "/"


def _check_members(uow: UnitOfWork, name: str, members: Sequence[str]) -> None:
    if len(set(members)) != len(members):
        raise InvalidInput("A member is listed twice in --members")
    for member in members:
        if member == name:
            raise InvalidInput(f"Virtual index {name!r} cannot be its own member")
        index = uow.indexes.get(member)
        if index is None:
            raise NotFound(f"There is no index named {member!r} to use as a member")
        if index.kind is IndexKind.VIRTUAL and name in _reachable(uow, member):
            raise InvalidInput(f"Adding {member!r} as a member of {name!r} would make a cycle")


def _reachable(uow: UnitOfWork, name: str) -> set[str]:
    seen: set[str] = set()
    pending = [name]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        # A member named but not (yet) created still counts: creating it later must not
        # close a cycle unnoticed.
        seen.add(name)
        current = uow.indexes.get(name)
        if current is not None:
            pending.extend(IndexSettings.of(current).members)
    return seen


def list_indexes(*, uow_factory: UnitOfWorkFactory) -> tuple[Sequence[Index], str | None]:
    with uow_factory(readonly=True) as uow:
        return uow.indexes.list(), uow.indexes.get_default()


def get_index(*, uow_factory: UnitOfWorkFactory, name: str) -> Index:
    with uow_factory(readonly=True) as uow:
        return resolve_index(uow, name)


def set_default_index(
    *, uow_factory: UnitOfWorkFactory, name: str, actor: str, address: str | None = None
) -> None:
    with uow_factory() as uow:
        if uow.indexes.get(name) is None:
            raise NotFound(f"There is no index named {name!r}; see 'packyard index list'")
        uow.indexes.set_default(name)
        uow.events.append(
            Event(action="default_index_set", actor=actor, index=name, address=address)
        )
        uow.commit()


def configure_index(
    *,
    uow_factory: UnitOfWorkFactory,
    name: str,
    actor: str,
    change: Callable[[IndexSettings], IndexSettings],
    what: str,
    address: str | None = None,
) -> IndexSettings:
    """Apply `change` to the index's settings in one transaction; pages update at once."""
    with uow_factory() as uow:
        index = resolve_index(uow, name)
        settings = change(IndexSettings.of(index))
        uow.indexes.update_config(index.name, settings.to_config())
        record_change(
            uow,
            Event(
                action="index_configured",
                actor=actor,
                index=index.name,
                data={"what": what},
                address=address,
            ),
        )
        uow.commit()
    return settings


def set_options(
    settings: IndexSettings,
    *,
    min_age: timedelta | None = None,
    allow: Sequence[Rule] = (),
    deny: Sequence[Rule] = (),
    merge: Sequence[str] = (),
    ttl: timedelta | None = None,
    offline: bool | None = None,
    clear_rules: bool = False,
) -> IndexSettings:
    """The settings with the given options applied; rules and merges are added to what is
    there (after clear_rules, to nothing; min-age 0 removes the cooldown)."""
    if (ttl is not None or offline is not None) and settings.kind is not IndexKind.MIRROR:
        raise InvalidInput("--ttl, --offline and --online apply to mirror indexes only")
    if merge and settings.kind is not IndexKind.VIRTUAL:
        raise InvalidInput("--merge applies to virtual indexes only")
    policy = settings.policy
    if clear_rules:
        policy = replace(policy, allow=(), deny=())
    policy = replace(
        policy,
        allow=(*policy.allow, *[r for r in allow if r not in policy.allow]),
        deny=(*policy.deny, *[r for r in deny if r not in policy.deny]),
    )
    if min_age is not None:
        policy = replace(policy, min_age=min_age or None)
    return replace(
        settings,
        policy=policy,
        merge=settings.merge | {validate_project_name(p) for p in merge},
        ttl=ttl if ttl is not None else settings.ttl,
        offline=offline if offline is not None else settings.offline,
    )


def set_permissions(
    settings: IndexSettings, *, readers: Audience | None, uploaders: Audience | None
) -> IndexSettings:
    if uploaders is not None and uploaders.anonymous:
        raise InvalidInput("Anonymous uploads are not allowed: use 'authenticated' or names")
    if uploaders is not None and settings.kind is IndexKind.MIRROR:
        raise InvalidInput("A mirror index takes no uploads")
    return replace(
        settings,
        readers=readers if readers is not None else settings.readers,
        uploaders=uploaders if uploaders is not None else settings.uploaders,
    )


def add_exemption(
    settings: IndexSettings,
    *,
    project: str,
    reason: str,
    actor: str,
    now: datetime,
    expires: timedelta | None,
) -> IndexSettings:
    if not reason.strip():
        raise InvalidInput("An exemption needs a --reason, recorded with who made it")
    name = validate_project_name(project)
    exemption = Exemption(
        project=name,
        reason=validate_text(reason.strip(), "reason"),
        created_by=actor,
        created_at=now,
        expires_at=now + expires if expires else None,
    )
    others = tuple(e for e in settings.policy.exemptions if e.project != name)
    return replace(settings, policy=replace(settings.policy, exemptions=(*others, exemption)))


def add_claim(
    settings: IndexSettings, *, project: str, reason: str, actor: str, now: datetime
) -> IndexSettings:
    if settings.kind is not IndexKind.HOSTED:
        raise InvalidInput("Names are claimed in a hosted index")
    name = validate_project_name(project)
    claim = Claim(
        project=name, by=actor, reason=validate_text(reason.strip(), "reason") or "claimed", at=now
    )
    return replace(settings, claims={**settings.claims, name: claim})


def ensure_initial_indexes(uow: UnitOfWork, *, upstream: Callable[[], str | None]) -> None:
    """An empty store gets hosted, upstream (mirror) and root (virtual over both, the
    default); an existing one keeps what it has. No upstream: no mirror."""
    if uow.indexes.list():
        return
    upstream_url = upstream()
    indexes = [Index(name=DEFAULT_HOSTED, kind=IndexKind.HOSTED)]
    members = [DEFAULT_HOSTED]
    if upstream_url is not None:
        mirror = IndexSettings(kind=IndexKind.MIRROR, upstream=validate_upstream(upstream_url))
        indexes.append(Index(DEFAULT_MIRROR, IndexKind.MIRROR, config=mirror.to_config()))
        members.append(DEFAULT_MIRROR)
    root = IndexSettings(kind=IndexKind.VIRTUAL, members=tuple(members))
    indexes.append(Index(DEFAULT_VIRTUAL, IndexKind.VIRTUAL, config=root.to_config()))
    for index in indexes:
        uow.indexes.add(index)
        serial = uow.events.append(Event(action="index_created", actor="system", index=index.name))
        uow.indexes.bump_serial(index.name, serial)
    uow.indexes.set_default(DEFAULT_VIRTUAL)


def resolve_index(uow: UnitOfWork, name: str | None) -> Index:
    """The named index, or the default one when no name is given."""
    wanted = name or uow.indexes.get_default()
    index = uow.indexes.get(wanted) if wanted else None
    if index is None:
        raise NotFound(f"There is no index named {wanted!r}; see 'packyard index list'")
    return index


def upload_target(uow: UnitOfWork, index: Index) -> Index:
    """Where an upload to `index` lands: itself if hosted, a virtual index's first hosted
    member otherwise."""
    if index.kind is IndexKind.HOSTED:
        return index
    if index.kind is IndexKind.VIRTUAL:
        for member in IndexSettings.of(index).members:
            candidate = uow.indexes.get(member)
            if candidate is not None and candidate.kind is IndexKind.HOSTED:
                return candidate
        raise Conflict(f"Virtual index {index.name!r} has no hosted member to upload to")
    raise Conflict(f"Index {index.name!r} is a mirror; upload to a hosted or virtual index")
