"""The event envelope, the registry of event types, upcasting and the wire format.

Wire format (what the outbox relay writes to Kafka and what other tools read): one JSON object
per event, UTF-8, keys sorted, no insignificant whitespace, described in ``docs/events.md``.
Payloads in the store and on the wire keep the schema version they were written with; readers
upcast them to the current version, so an event is never edited.
"""

from __future__ import annotations

import builtins  # RecordedEvent has a field named ``type``
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, field_validator

from core.errors import UnknownEventType, ValidationFailed

STREAM_ID_PATTERN = re.compile(
    r"^(?P<category>[a-z][a-z0-9_]{0,62})-(?P<key>[A-Za-z0-9_.:@-]{1,200})$"
)
# uuid5 namespace for ids derived from a causing event: a retried reaction appends the same ids
DERIVED_ID_NAMESPACE = uuid.UUID("8f1d3a52-6c3e-4c8e-9a63-2c7d1b0f4e11")


def utcnow() -> datetime:
    return datetime.now(UTC)


def require_utc(moment: datetime) -> datetime:
    """An instant given by a caller, in UTC. A naive one is refused rather than guessed:
    comparisons across events need every instant in one zone. (Values read back from the
    database are another matter: ``core.db.utc``.)"""
    if moment.tzinfo is None:
        raise ValueError(f"datetime {moment.isoformat()} has no timezone; use UTC")
    return moment.astimezone(UTC)


def stream_category(stream_id: str) -> str:
    match = STREAM_ID_PATTERN.match(stream_id)
    if not match:
        raise ValidationFailed(
            f"stream id {stream_id!r} is not '<category>-<key>' "
            "(category: lowercase letters, digits, '_'; key: letters, digits, '_.:@-')"
        )
    return match["category"]


def stream_id(category: str, key: str | uuid.UUID) -> str:
    sid = f"{category}-{key}"
    stream_category(sid)
    return sid


def derived_event_id(causation_id: uuid.UUID, discriminator: str, index: int = 0) -> uuid.UUID:
    """A deterministic id for the ``index``-th event a consumer appends in reaction to another."""
    return uuid.uuid5(DERIVED_ID_NAMESPACE, f"{causation_id}/{discriminator}/{index}")


class Actor(BaseModel):
    """Who caused an event: a principal id and the role it acted in."""

    model_config = ConfigDict(frozen=True)

    id: str
    role: str


SYSTEM_ACTOR = Actor(id="system", role="system")


@dataclass(frozen=True)
class PersonalData:
    """Which payload fields are a person's personal data, and whose (see docs/privacy.md).

    ``subject`` names the payload field that holds the person's principal id; ``fields`` are
    paths into the payload: ``"prompt"``, ``"decision.normalised_prompt"`` (inside a dict), or
    ``"decision.evidence[].detail"`` (in every element of a list). The event store seals these
    with the subject's key when it writes and opens them when it reads (core/privacy.py), so
    no domain encrypts anything itself; once the key is erased they read as a placeholder.
    """

    subject: str
    fields: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.fields:
            raise ValueError("PersonalData needs at least one field")
        for path in self.fields:
            if not re.fullmatch(r"[a-z_][a-z0-9_]*(\[\])?(\.[a-z_][a-z0-9_]*(\[\])?)*", path):
                raise ValueError(
                    f"personal field path {path!r} is not 'name(.name)*' ([] for lists)"
                )

    @property
    def top_level(self) -> set[str]:
        return {path.split(".", 1)[0].removesuffix("[]") for path in self.fields}


class EventPayload(BaseModel):
    """Base of every typed event payload; subclasses are declared with :func:`event_type`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type_name: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1
    category: ClassVar[str] = ""
    # The fields that are personal data and whose they are (None: the event holds none).
    personal_data: ClassVar[PersonalData | None] = None


P = TypeVar("P", bound=type[EventPayload])
E = TypeVar("E", bound=EventPayload)
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class EventTypeInfo:
    name: str
    category: str
    version: int
    payload_class: type[EventPayload]
    upcasters: dict[int, Upcaster] = field(default_factory=dict)


class EventRegistry:
    """Event type name -> payload class, current schema version and upcasters."""

    def __init__(self) -> None:
        self._types: dict[str, EventTypeInfo] = {}

    def register(self, name: str, category: str, version: int, cls: type[EventPayload]) -> None:
        existing = self._types.get(name)
        if existing and existing.payload_class.__qualname__ != cls.__qualname__:
            raise ValueError(f"event type {name!r} is registered twice")
        upcasters = existing.upcasters if existing else {}
        self._types[name] = EventTypeInfo(name, category, version, cls, upcasters)

    def add_upcaster(self, name: str, from_version: int, fn: Upcaster) -> None:
        info = self.info(name)
        if not 1 <= from_version < info.version:
            raise ValueError(f"{name}: upcaster from v{from_version} outside 1..{info.version - 1}")
        info.upcasters[from_version] = fn

    def info(self, name: str) -> EventTypeInfo:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownEventType(f"unknown event type {name!r}") from None

    def known(self, name: str) -> bool:
        return name in self._types

    def personal_data(self, name: str) -> PersonalData | None:
        """The personal fields of a registered type (None for unknown types and for types
        that hold none)."""
        info = self._types.get(name)
        return info.payload_class.personal_data if info else None

    def names(self) -> list[str]:
        return sorted(self._types)

    def upcast(
        self, name: str, version: int, payload: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """Bring a stored payload up to the current schema version of its type."""
        if name not in self._types:
            return version, payload  # a newer writer's type: carried through untouched
        info = self._types[name]
        if version > info.version:
            raise UnknownEventType(
                f"{name} v{version} is newer than this code knows (v{info.version})"
            )
        while version < info.version:
            step = info.upcasters.get(version)
            if step is None:
                raise UnknownEventType(f"{name}: no upcaster from v{version} to v{version + 1}")
            payload = step(dict(payload))
            version += 1
        return version, payload

    def check_upcaster_chains(self) -> list[str]:
        """Names of types whose chain from v1 to the current version has a hole."""
        return [
            i.name
            for i in self._types.values()
            if any(v not in i.upcasters for v in range(1, i.version))
        ]


REGISTRY = EventRegistry()


def event_type(name: str, *, category: str, version: int = 1) -> Callable[[P], P]:
    """Declare a payload class as the current schema of event type ``name``."""
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]+", name):
        raise ValueError(f"event type name {name!r} must be PascalCase")

    def decorate(cls: P) -> P:
        personal = cls.personal_data
        if personal is not None:
            fields = set(cls.__pydantic_fields__)
            unknown = (personal.top_level | {personal.subject}) - fields
            if unknown:
                raise ValueError(f"{name}: personal_data names unknown fields {sorted(unknown)}")
        cls.event_type_name = name
        cls.schema_version = version
        cls.category = category
        REGISTRY.register(name, category, version, cls)
        return cls

    return decorate


def upcaster(name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    def decorate(fn: Upcaster) -> Upcaster:
        REGISTRY.add_upcaster(name, from_version, fn)
        return fn

    return decorate


@dataclass(frozen=True)
class NewEvent:
    """An event about to be appended; callers may fix its id to make a retry idempotent."""

    payload: EventPayload
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)


def _format_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class RecordedEvent(BaseModel):
    """The envelope of a stored event. ``payload`` is already upcast to the current version."""

    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID
    type: str
    schema_version: int
    stream_id: str
    stream_version: int
    position: int
    occurred_at: datetime
    actor: Actor
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    payload: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @property
    def category(self) -> str:
        return stream_category(self.stream_id)

    @property
    def stream_key(self) -> str:
        return self.stream_id.split("-", 1)[1]

    def decode(self) -> EventPayload:
        info = REGISTRY.info(self.type)
        return info.payload_class.model_validate(self.payload)

    def payload_as(self, cls: builtins.type[E]) -> E:
        """The payload as ``cls``, the event type's declared class: a consumer reads the
        producer's contract instead of guessing keys, and an event of another type is a
        programming error, not a silent default."""
        if cls.event_type_name != self.type:
            raise TypeError(f"{self.type} event read as {cls.event_type_name or cls.__name__}")
        return cls.model_validate(self.payload)

    def to_wire(self) -> dict[str, Any]:
        return {
            "event_id": str(self.event_id),
            "type": self.type,
            "schema_version": self.schema_version,
            "stream_id": self.stream_id,
            "stream_version": self.stream_version,
            "position": self.position,
            "occurred_at": _format_time(self.occurred_at),
            "actor": {"id": self.actor.id, "role": self.actor.role},
            "correlation_id": str(self.correlation_id),
            "causation_id": str(self.causation_id) if self.causation_id else None,
            "payload": self.payload,
        }

    def to_json(self) -> bytes:
        return dumps(self.to_wire())

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> RecordedEvent:
        version, payload = REGISTRY.upcast(
            data["type"], int(data["schema_version"]), data["payload"]
        )
        return cls.model_validate({**data, "schema_version": version, "payload": payload})

    @classmethod
    def from_json(cls, raw: bytes | str) -> RecordedEvent:
        return cls.from_wire(json.loads(raw))


def dumps(value: Any) -> bytes:
    """The canonical JSON encoding used on the wire and for hashing."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    ).encode()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _format_time(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def payload_to_dict(payload: EventPayload) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(dumps(payload.model_dump(mode="json")))
    return result
