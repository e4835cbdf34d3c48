"""Personal data that can be erased: crypto-shredding in the event store (docs/privacy.md).

Event classes say which payload fields are personal and whose (``PersonalData`` on the class,
see core/events.py). When the store writes such an event it replaces each of those values by a
*sealed* value: the JSON of the value, encrypted (AES-256-GCM) with a key of the subject's
own. Subject keys live in ``subject_keys``, each wrapped (AES-256-GCM) under a key derived from
the deployment's secret key, so the database alone opens nothing. Reading a row opens its
sealed values again (:func:`open_payload`, called by ``core.store.row_to_event``, which every
reader of the store goes through: the store's reads, the projections' catch-up, the outbox
relay). Erasing a subject deletes their key material: from then on every sealed value of
theirs reads as a placeholder (``"[erased]"`` for text), in every read and every replay, while
the event itself, its envelope and its other fields stay as they were. An event is never
edited; the key is what goes.

Read models hold copies of personal values. Their columns say so
(``mapped_column(..., info=personal_column("owner_id"))``), and an erasure overwrites those
columns with the same placeholder a replay would write, in the transaction that erases the
key, so a projection rebuilt after an erasure equals the live one.
"""

from __future__ import annotations

import base64
import copy
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Table,
    and_,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session, sessionmaker

from core.db import Base, transaction
from core.errors import NotFound, ValidationFailed
from core.events import REGISTRY, Actor, EventPayload, PersonalData, utcnow

ERASED = "[erased]"
SEALED = "$sealed"  # the key that marks a sealed value in a stored payload
# The Kafka header of a record whose payload holds sealed values (the relay publishes payloads
# as stored, see docs/events.md); a consumer opens them through the store's keyring.
SEALED_RECORD_HEADER = "personal-data"
_KEYRING_INFO = "clearframe.keyring"
_READ_CACHE = "clearframe.keyring.read"  # (subject, generation) -> key | None, per session
_WRITE_CACHE = "clearframe.keyring.write"  # subject -> (generation, key), per session
_PERSONAL_INFO = "personal_of"  # Column.info key: the column holding the subject's id
_NONCE = 12


class PersonalDataUnreadable(RuntimeError):
    """A sealed value whose key exists but cannot be unwrapped (a changed secret key?)."""


class SubjectKey(Base):
    """One data key of one person. ``wrapped_key`` NULL: erased (the row says when).

    A subject's later personal data (after an erasure) gets a new generation, so an erased
    generation is never reused and its sealed values stay unreadable.
    """

    __tablename__ = "subject_keys"

    subject_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


SUBJECT_KEYS = cast(Table, SubjectKey.__table__)


def personal_column(subject_column: str) -> dict[str, str]:
    """``info`` for a read-model column that copies personal data of the person whose id is in
    ``subject_column`` of the same table: an erasure overwrites it with the placeholder."""
    return {_PERSONAL_INFO: subject_column}


# -- paths into payloads -------------------------------------------------------------------------


def _segments(path: str) -> list[tuple[str, bool]]:
    return [(seg.removesuffix("[]"), seg.endswith("[]")) for seg in path.split(".")]


def _replace_at(obj: Any, segments: Sequence[tuple[str, bool]], fn: Callable[[Any], Any]) -> None:
    """Replace, in place, every non-null value at ``segments`` under ``obj`` by ``fn(value)``."""
    if not isinstance(obj, dict) or not segments:
        return
    (key, each), rest = segments[0], segments[1:]
    value = obj.get(key)
    if value is None:
        return
    if each and isinstance(value, list):
        if rest:
            for item in value:
                _replace_at(item, rest, fn)
        else:
            obj[key] = [None if v is None else fn(v) for v in value]
    elif rest:
        _replace_at(value, rest, fn)
    else:
        obj[key] = fn(value)


def placeholder(kind: str) -> Any:
    """What an erased value reads as: text becomes ``"[erased]"``, a list or object an empty
    one (so a payload keeps its shape), anything else null."""
    return {"str": ERASED, "list": [], "dict": {}}.get(kind)


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    return "dict" if isinstance(value, dict) else "other"


def redact(payload: dict[str, Any], spec: PersonalData) -> dict[str, Any]:
    """``payload`` with its personal fields replaced by their placeholders."""
    out = copy.deepcopy(payload)
    for path in spec.fields:
        _replace_at(out, _segments(path), lambda v: placeholder(_kind(v)))
    return out


def redacted_payload(event: Any) -> dict[str, Any]:
    """A recorded event's payload with its personal fields as placeholders, erased or not:
    for read models that copy whole payloads and must not hold the subject's words."""
    spec = REGISTRY.personal_data(event.type)
    payload: dict[str, Any] = event.payload
    return payload if spec is None else redact(payload, spec)


# -- the keyring ---------------------------------------------------------------------------------


class Keyring:
    """Seals and opens personal values with per-subject keys kept in ``subject_keys``.

    It holds no keys itself: they are read in the caller's session (and cached for that
    session only), so an erasure is seen by the next transaction of every process.
    """

    def __init__(self, secret_key: str) -> None:
        kek = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"clearframe subject keys v1"
        ).derive(secret_key.encode())
        self._kek = AESGCM(kek)

    # keys

    def _wrap(self, subject: str, generation: int, key: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._kek.encrypt(nonce, key, f"{subject}\0{generation}".encode())

    def _unwrap(self, subject: str, generation: int, wrapped: bytes) -> bytes:
        try:
            return self._kek.decrypt(
                wrapped[:_NONCE], wrapped[_NONCE:], f"{subject}\0{generation}".encode()
            )
        except InvalidTag:
            raise PersonalDataUnreadable(
                f"the key of subject {subject!r} (generation {generation}) does not open with "
                "this deployment's secret key; was CLEARFRAME_SECRET_KEY changed?"
            ) from None

    def _writing_key(self, session: Session, subject: str) -> tuple[int, bytes]:
        cache: dict[str, tuple[int, bytes]] = session.info.setdefault(_WRITE_CACHE, {})
        if subject in cache:
            return cache[subject]
        row = session.execute(
            select(SubjectKey.generation, SubjectKey.wrapped_key)
            .where(SubjectKey.subject_id == subject)
            .order_by(SubjectKey.generation.desc())
            .limit(1)
        ).first()
        if row is not None and row.wrapped_key is not None:
            generation, key = (
                int(row.generation),
                self._unwrap(subject, row.generation, row.wrapped_key),
            )
        else:
            generation = int(row.generation) + 1 if row is not None else 1
            key = AESGCM.generate_key(bit_length=256)
            session.execute(
                insert(SUBJECT_KEYS).values(
                    subject_id=subject,
                    generation=generation,
                    wrapped_key=self._wrap(subject, generation, key),
                    created_at=utcnow(),
                )
            )
        cache[subject] = (generation, key)
        session.info.setdefault(_READ_CACHE, {})[(subject, generation)] = key
        return generation, key

    def prefetch(self, session: Session, subjects: Iterable[str]) -> None:
        """Load the keys of ``subjects`` in one query (a page of events read at once)."""
        cache: dict[tuple[str, int], bytes | None] = session.info.setdefault(_READ_CACHE, {})
        wanted = sorted({s for s in subjects} - {s for s, _ in cache})
        for chunk in (wanted[i : i + 500] for i in range(0, len(wanted), 500)):
            for subject, generation, wrapped in session.execute(
                select(SubjectKey.subject_id, SubjectKey.generation, SubjectKey.wrapped_key).where(
                    SubjectKey.subject_id.in_(chunk)
                )
            ):
                cache[(subject, generation)] = (
                    None if wrapped is None else self._unwrap(subject, generation, wrapped)
                )

    def _reading_key(self, session: Session, subject: str, generation: int) -> bytes | None:
        cache: dict[tuple[str, int], bytes | None] = session.info.setdefault(_READ_CACHE, {})
        if (subject, generation) not in cache:
            wrapped = session.scalar(
                select(SubjectKey.wrapped_key).where(
                    SubjectKey.subject_id == subject, SubjectKey.generation == generation
                )
            )
            # No row at all reads as erased too: deleting a key row must not expose anything.
            cache[(subject, generation)] = (
                None if wrapped is None else self._unwrap(subject, generation, wrapped)
            )
        return cache[(subject, generation)]

    def erase(self, session: Session, subject: str) -> int:
        """Delete the key material of every generation of ``subject``; returns how many."""
        result = session.execute(
            update(SubjectKey)
            .where(SubjectKey.subject_id == subject, SubjectKey.wrapped_key.is_not(None))
            .values(wrapped_key=None, erased_at=utcnow())
        )
        session.info.get(_WRITE_CACHE, {}).pop(subject, None)
        reads = session.info.get(_READ_CACHE, {})
        for key in [k for k in reads if k[0] == subject]:
            del reads[key]
        return int(getattr(result, "rowcount", 0) or 0)

    # values

    def seal(
        self, session: Session, spec: PersonalData, payload: dict[str, Any]
    ) -> tuple[dict[str, Any], str | None]:
        """``payload`` with its personal values sealed, and the subject (None when it holds no
        personal value)."""
        from core.events import dumps

        out = copy.deepcopy(payload)
        subject_value = payload.get(spec.subject)
        subject = str(subject_value) if subject_value not in (None, "") else None
        sealed = 0

        def seal_one(value: Any) -> Any:
            nonlocal sealed
            if subject is None:
                raise ValidationFailed(
                    f"personal data without a subject: {spec.subject!r} is empty"
                )
            generation, key = self._writing_key(session, subject)
            nonce = os.urandom(_NONCE)
            ciphertext = AESGCM(key).encrypt(
                nonce, dumps(value), f"{subject}\0{generation}".encode()
            )
            sealed += 1
            return {
                SEALED: 1,
                "s": subject,
                "g": generation,
                "t": _kind(value),
                "c": base64.b64encode(nonce + ciphertext).decode(),
            }

        for path in spec.fields:
            _replace_at(out, _segments(path), seal_one)
        return (out, subject) if sealed else (payload, None)

    def open(self, session: Session, payload: Any) -> Any:
        """``payload`` with every sealed value opened, or its placeholder once erased."""
        import json

        if isinstance(payload, list):
            return [self.open(session, v) for v in payload]
        if not isinstance(payload, dict):
            return payload
        if SEALED in payload:
            subject, generation = str(payload["s"]), int(payload["g"])
            key = self._reading_key(session, subject, generation)
            if key is None:
                return placeholder(str(payload.get("t")))
            raw = base64.b64decode(payload["c"])
            try:
                plain = AESGCM(key).decrypt(
                    raw[:_NONCE], raw[_NONCE:], f"{subject}\0{generation}".encode()
                )
            except InvalidTag:
                raise PersonalDataUnreadable(
                    f"a sealed value of subject {subject!r} does not open with its key"
                ) from None
            return json.loads(plain)
        return {k: self.open(session, v) for k, v in payload.items()}


def open_wire_payloads(sessions: sessionmaker[Session], wires: Sequence[dict[str, Any]]) -> None:
    """Open, in place, the sealed values of events read off the wire (one read session for
    the batch, the subjects' keys prefetched); erased ones read as their placeholders."""
    keyring = factory_keyring(sessions)
    if keyring is None:
        raise RuntimeError(
            "records with sealed personal data, but the store has no keyring "
            "(build it through core.services.Services)"
        )
    subjects: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, list):
            for v in value:
                collect(v)
        elif isinstance(value, dict):
            if SEALED in value:
                subjects.add(str(value["s"]))
            else:
                for v in value.values():
                    collect(v)

    for wire in wires:
        collect(wire["payload"])
    with sessions() as session:
        keyring.prefetch(session, subjects)
        for wire in wires:
            wire["payload"] = keyring.open(session, wire["payload"])


_DATA_KEY = "data_key"
_DATA_KEY_SPEC = PersonalData(subject="subject", fields=(_DATA_KEY,))


class SealedBytesUnreadable(RuntimeError):
    """Sealed bytes whose data key opens but whose ciphertext does not: tampered, corrupted or
    moved to a row it was not sealed for."""


@dataclass(frozen=True)
class SealedBytes:
    """Bytes kept outside the event log (a row of their own) that must die with a subject.

    ``ciphertext`` is the bytes encrypted (AES-256-GCM) under a data key made for them alone,
    bound to ``aad``; ``sealed_key`` is that data key sealed under the subject's key. Deleting
    the row destroys them; erasing the subject makes every copy, backups included, unreadable.
    """

    sealed_key: dict[str, Any]
    ciphertext: bytes


def _session_keyring(session: Session) -> Keyring:
    keyring = keyring_of(session)
    if keyring is None:
        # Fail closed: sealed bytes are never written or read without the deployment's keyring.
        raise RuntimeError("sealed bytes need the keyring on the session (build it via Services)")
    return keyring


def seal_bytes(session: Session, subject: str, plaintext: bytes, aad: bytes) -> SealedBytes:
    key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(_NONCE)
    ciphertext = nonce + AESGCM(key).encrypt(nonce, plaintext, aad)
    sealed, _ = _session_keyring(session).seal(
        session, _DATA_KEY_SPEC, {"subject": subject, _DATA_KEY: base64.b64encode(key).decode()}
    )
    return SealedBytes(sealed_key=sealed[_DATA_KEY], ciphertext=ciphertext)


def open_bytes(session: Session, sealed: SealedBytes, aad: bytes) -> bytes | None:
    """The plaintext, or None once the subject was erased (gone for good)."""
    opened = _session_keyring(session).open(session, sealed.sealed_key)
    if not isinstance(opened, str) or opened == ERASED:
        return None
    blob = bytes(sealed.ciphertext)
    try:
        return AESGCM(base64.b64decode(opened)).decrypt(blob[:_NONCE], blob[_NONCE:], aad)
    except InvalidTag:
        raise SealedBytesUnreadable("sealed bytes do not open with their key") from None


def secure_delete(session: Session) -> None:
    """Make the next deletes overwrite what they free, where the database can (SQLite zeroes
    freed pages), so a deleted ciphertext and its sealed key leave no copy in the file."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete = ON"))


def attach_keyring(factory: sessionmaker[Session], keyring: Keyring) -> None:
    """Give every session of ``factory`` the keyring (``Session.info``): the store's writes
    seal with it and ``row_to_event`` opens with it, whoever made the session."""
    info = dict(factory.kw.get("info") or {})
    info[_KEYRING_INFO] = keyring
    factory.configure(info=info)


def keyring_of(session: Session | None) -> Keyring | None:
    if session is None:
        return None
    keyring = session.info.get(_KEYRING_INFO)
    return keyring if isinstance(keyring, Keyring) else None


def factory_keyring(factory: sessionmaker[Session]) -> Keyring | None:
    keyring = (factory.kw.get("info") or {}).get(_KEYRING_INFO)
    return keyring if isinstance(keyring, Keyring) else None


def sealing_spec(
    session: Session, payload: EventPayload, data: dict[str, Any]
) -> PersonalData | None:
    """What must be sealed in ``payload`` (serialised as ``data``), checked before the store
    takes any position: None when nothing is personal.

    The declaration is looked up by type name first, so an event built by another class of
    the same type (a foreign writer, a test) is sealed the same way.
    """
    spec = REGISTRY.personal_data(payload.event_type_name) or type(payload).personal_data
    if spec is None:
        return None
    if keyring_of(session) is None:
        # Fail closed: personal data is never written in the clear.
        raise RuntimeError(
            f"{payload.event_type_name} holds personal data but this session has no keyring "
            "(build the store through core.services.Services)"
        )
    if data.get(spec.subject) in (None, "") and redact(data, spec) != data:
        raise ValidationFailed(
            f"{payload.event_type_name} holds personal data but no subject ({spec.subject!r})"
        )
    return spec


def seal_payload(
    session: Session, spec: PersonalData | None, data: dict[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """What the store writes for ``data``, and its subject (see :func:`sealing_spec`)."""
    keyring = keyring_of(session)
    if spec is None or keyring is None:
        return data, None
    return keyring.seal(session, spec, data)


def open_row_payload(row: Any) -> dict[str, Any]:
    """The payload of a stored event row with its sealed values opened (see ``row_to_event``)."""
    keyring = keyring_of(object_session(row))
    if keyring is None:
        raise RuntimeError(
            f"event {row.event_id} holds sealed personal data but its session has no keyring "
            "(read the store through core.services.Services)"
        )
    opened: dict[str, Any] = keyring.open(cast(Session, object_session(row)), row.payload)
    return opened


# -- read models ---------------------------------------------------------------------------------


def personal_columns() -> dict[str, list[tuple[str, str]]]:
    """Every read-model table with personal columns: table -> [(column, subject column)]."""
    from core.modules import import_all_models

    import_all_models()
    found: dict[str, list[tuple[str, str]]] = {}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            subject = column.info.get(_PERSONAL_INFO)
            if subject is not None:
                if subject not in table.columns:
                    raise ValueError(f"{table.name}.{column.name}: no subject column {subject!r}")
                found.setdefault(table.name, []).append((column.name, subject))
    return found


def scrub_read_models(session: Session, subject: str) -> dict[str, int]:
    """Overwrite the subject's personal columns with the placeholder; rows changed per column.

    Only text columns are declared personal: their placeholder is the one a replay writes
    (a projection copies ``"[erased]"`` from the opened event), so live equals rebuilt.
    """
    changed: dict[str, int] = {}
    for table_name, columns in personal_columns().items():
        table = Base.metadata.tables[table_name]
        for column, subject_column in columns:
            col = table.c[column]
            if isinstance(col.type, JSON):
                raise ValueError(f"{table_name}.{column}: only text columns can be scrubbed")
            result = session.execute(
                update(table)
                .where(table.c[subject_column] == subject, col.is_not(None), col != ERASED)
                .values({column: ERASED})
            )
            count = int(getattr(result, "rowcount", 0) or 0)
            if count:
                changed[f"{table_name}.{column}"] = count
    return changed


# -- the erasure command -------------------------------------------------------------------------


@dataclass
class ErasureReport:
    subject_id: str
    event_id: str
    position: int
    keys_erased: int
    sealed_events: int
    read_model_rows: dict[str, int] = field(default_factory=dict)
    settled: bool = True
    projections_behind: list[str] = field(default_factory=list)
    storage_purged: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject_id": self.subject_id,
            "event_id": self.event_id,
            "position": self.position,
            "keys_erased": self.keys_erased,
            "sealed_events": self.sealed_events,
            "read_model_rows": dict(self.read_model_rows),
            "settled": self.settled,
            "projections_behind": list(self.projections_behind),
            "storage_purged": self.storage_purged,
        }


def erase_personal_data(
    services: Any,
    subject_id: str,
    actor: Actor,
    *,
    request_ref: str | None = None,
    settle_s: float = 5.0,
) -> ErasureReport:
    """Erase a person's personal data: their keys, the copies in every read model, what the
    modules' erasure hooks delete (``Module.erasure``: a cameo's face template), and a
    ``PersonalDataErased`` event on their identity stream, in one transaction.

    Then, because a projection may have read (opened) an event of theirs just before the key
    went and write it just after, it waits up to ``settle_s`` until the projections have
    applied the store up to the erasure and scrubs once more. A projection still behind then
    applies the rest after the erasure, so it reads placeholders: nothing is left to scrub.
    Erasing an erased subject again is harmless (it scrubs again).
    """
    from core.auth import PrincipalRow
    from core.identity import PersonalDataErased, principal_stream
    from core.modules import all_erasure_hooks
    from core.store import StoredEvent

    if request_ref is not None and len(request_ref) > 200:
        raise ValidationFailed("request_ref must be at most 200 characters")
    keyring = factory_keyring(services.sessions)
    if keyring is None:
        raise RuntimeError("these services have no keyring")
    with transaction(services.sessions) as s:
        if s.get(PrincipalRow, subject_id) is None:
            raise NotFound(f"no principal {subject_id}")
        if s.get_bind().dialect.name == "sqlite":
            # Freed space is zeroed, so the old key bytes are not left in a page's free space.
            s.execute(text("PRAGMA secure_delete = ON"))
        sealed_events = int(
            s.scalar(
                select(func.count())
                .select_from(StoredEvent)
                .where(StoredEvent.personal_subject == subject_id)
            )
            or 0
        )
        # The append comes first: it takes the store's head lock, so no append that could
        # seal with the old key commits between it and the key's deletion.
        recorded = services.store.append(
            principal_stream(subject_id),
            [
                PersonalDataErased(
                    principal_id=subject_id, request_ref=request_ref, sealed_events=sealed_events
                )
            ],
            expected_version=None,
            actor=actor,
            session=s,
        )[0]
        keys = keyring.erase(s, subject_id)
        rows = scrub_read_models(s, subject_id)
        for hook in all_erasure_hooks():
            for table, count in hook(services, s, subject_id, actor).items():
                rows[table] = rows.get(table, 0) + count
    report = ErasureReport(
        subject_id=subject_id,
        event_id=str(recorded.event_id),
        position=recorded.position,
        keys_erased=keys,
        sealed_events=sealed_events,
        read_model_rows=rows,
    )
    behind = _wait_for_projections(services, recorded.position, settle_s)
    with transaction(services.sessions) as s:
        for column, count in scrub_read_models(s, subject_id).items():
            report.read_model_rows[column] = report.read_model_rows.get(column, 0) + count
    report.settled = not behind
    report.projections_behind = behind
    report.storage_purged = _purge_old_versions(services)
    return report


def _purge_old_versions(services: Any) -> bool:
    """Drop the database's old copies of the erased key material where the engine allows it:
    SQLite's write-ahead log (checkpointed and truncated), PostgreSQL's dead row versions of
    ``subject_keys`` (the table is rewritten). Backups and archived WAL keep theirs until they
    age out (docs/privacy.md). Best effort: False when the database was too busy."""
    import logging

    try:
        if services.engine.dialect.name == "sqlite":
            raw = services.engine.raw_connection()  # autocommit: outside any transaction
            try:
                busy = raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                raw.close()
            return busy is None or int(busy[0]) == 0
        with services.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("VACUUM FULL subject_keys")
        return True
    except Exception as exc:
        logging.getLogger(__name__).warning(
            "erasure: could not purge old row versions (%s); the key is erased all the same",
            type(exc).__name__,
        )
        return False


def _wait_for_projections(services: Any, position: int, wait_s: float) -> list[str]:
    """Wait (at most ``wait_s``) until every projection has applied the events of its
    categories up to ``position``; returns the ones still behind."""
    from core.modules import all_projections
    from core.projections import ConsumerWatermark, StreamTracking
    from core.store import StoredEvent

    personal = set(personal_columns())
    built = {name: factory(services) for name, factory in all_projections().items()}
    consumers = {
        n: p for n, p in built.items() if {t.name for t in getattr(p, "tables", ())} & personal
    }
    deadline = time.monotonic() + max(0.0, wait_s)
    while True:
        behind = []
        with services.read_sessions() as s:
            for name, projection in sorted(consumers.items()):
                watermark = (
                    s.scalar(
                        select(ConsumerWatermark.position).where(
                            ConsumerWatermark.consumer == projection.name
                        )
                    )
                    or 0
                )
                unapplied = s.scalar(
                    select(func.count())
                    .select_from(StoredEvent)
                    .outerjoin(
                        StreamTracking,
                        and_(
                            StreamTracking.consumer == projection.name,
                            StreamTracking.stream_id == StoredEvent.stream_id,
                        ),
                    )
                    .where(
                        StoredEvent.category.in_(list(projection.categories)),
                        StoredEvent.position > watermark,
                        StoredEvent.position <= position,
                        or_(
                            StreamTracking.version.is_(None),
                            StoredEvent.version > StreamTracking.version,
                        ),
                    )
                )
                if unapplied:
                    behind.append(name)
        if not behind or time.monotonic() >= deadline:
            return behind
        time.sleep(0.1)
