"""The ``clearframe`` command line.

Every command answers bad input with a message on stderr and a non-zero exit (2 for usage and
input errors, 1 for a failed check), never a traceback. Before any command runs, the settings of
every section are checked (``core/preflight.py``): production refuses to run anything while a
development secret is in place.

The parser is light: domain commands are declared by each domain's ``cli`` module, which
imports its heavy code (models, FAISS, C2PA) only inside the command function.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from core.errors import ClearframeError, NotFound, ValidationFailed
from core.settings import ConfigurationError, Settings

if TYPE_CHECKING:
    from core.services import Services

EXIT_INPUT = 2
EXIT_BEHIND = 3  # replay-check: a projection had not applied the store in time


class CliError(Exception):
    """A user-facing failure with its exit code."""

    def __init__(self, message: str, code: int = EXIT_INPUT) -> None:
        super().__init__(message)
        self.code = code


def _services(args: argparse.Namespace) -> Services:
    """The services of a command that needs the database, which must have been migrated."""
    from core.services import Services

    if getattr(args, "_services", None) is None:
        settings = getattr(args, "_settings", None) or Settings()
        url = settings.effective_database_url
        if url.startswith("sqlite") and not Path(url.split("///", 1)[-1]).exists():
            raise CliError(f"no database at {_where(url)} yet: run `clearframe migrate` first", 1)
        services = Services.from_settings(settings)
        try:
            _require_schema(services)
        except BaseException:
            services.close()
            raise
        args._services = services
    return args._services


def _wired_services(args: argparse.Namespace) -> Services:
    """The services of a command that runs domain code (workers, the API, replays).

    The modules are wired first, before the database is opened: when a module requires a
    port that no loaded module provides, the command stops with that message instead of
    running without it (``core/ports.py``)."""
    from core.modules import check_wiring

    wiring = check_wiring()
    services = _services(args)
    services.wire(wiring)
    return services


def _where(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _require_schema(services: Services) -> None:
    """One line naming the command to run first, instead of a `no such table` traceback."""
    from sqlalchemy import inspect

    with (services.read_engine or services.engine).connect() as conn:
        migrated = inspect(conn).has_table("alembic_version")
    if not migrated:
        where = _where(services.settings.effective_database_url)
        raise CliError(
            f"the database at {where} has no schema yet: run `clearframe migrate` first", 1
        )


def cmd_migrate(args: argparse.Namespace) -> int:
    from core.migrate import upgrade

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url, args.revision)
    print(f"migrated {settings.effective_database_url.split('@')[-1]} to {args.revision}")
    return 0


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set ``stop`` (workers finish their step and exit within about a
    second); a second one raises KeyboardInterrupt to stop waiting for them."""

    def handle(_signum: int, _frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handle)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from core.app import create_app
    from core.auth import ensure_dev_admin
    from core.migrate import upgrade
    from core.workers import WorkerPool, resolve

    settings = getattr(args, "_settings", None) or Settings()
    if not args.no_migrate:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.effective_database_url)
    services = _wired_services(args)
    app = create_app(services)
    token = ensure_dev_admin(services.sessions, settings)
    pool = WorkerPool(services, resolve(services, args.workers or settings.workers))
    pool.start()
    host, port = args.host or settings.api_host, args.port or settings.api_port
    mode = "kafka " + settings.kafka_bootstrap if settings.uses_kafka else "embedded (SQL tail)"
    print(f"Clearframe {settings.env.value} on http://{host}:{port}  (docs: /docs)", flush=True)
    print(f"  database: {settings.effective_database_url.split('@')[-1]}", flush=True)
    print(f"  event log: {mode}; workers: {', '.join(pool.names) or 'none'}", flush=True)
    if token:
        print(f"  development admin token: {token}", flush=True)
    _warm_in_background(services)
    # uvicorn handles SIGTERM/SIGINT while it serves, then restores these handlers and raises the
    # signal again: with them, that stops the workers below instead of killing the process
    # before they could stop.
    _stop_on_signals(pool.stop)
    try:
        uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        pool.close()
    return 0


def _warm_in_background(services: Services) -> threading.Thread:
    """Load every domain's models in a thread while the API starts; say when they are ready.

    Until then a request that needs a model builds it itself (the builds are shared, see
    ``Services.resource``), so nothing waits on this thread."""
    from core.modules import load_modules

    hooks = [(m.name, hook) for m in load_modules() for hook in m.warm]

    names = list(dict.fromkeys(n for n, _ in hooks))
    services.warm_up.begin(names)

    def run() -> None:
        started = time.monotonic()
        failed = []
        for name in names:
            error: BaseException | None = None
            for hook in (h for n, h in hooks if n == name):
                try:
                    hook(services)
                except Exception as exc:  # the first request that needs it will say why
                    error = exc
                    logging.getLogger(__name__).warning(
                        "warming %s failed: %s: %s", name, type(exc).__name__, exc
                    )
            if error is not None:
                failed.append(name)
            # each module reports as soon as its own models are loaded
            services.warm_up.finished(name, error)
        took = time.monotonic() - started
        note = f" ({', '.join(failed)} failed: see the log)" if failed else ""
        print(f"  ready: models warm after {took:.1f} s{note}", flush=True)

    print(f"  warming models in the background ({', '.join(n for n, _ in hooks)})", flush=True)
    thread = threading.Thread(target=run, name="warm-models", daemon=True)
    thread.start()
    return thread


def cmd_worker(args: argparse.Namespace) -> int:
    from core.workers import WorkerPool, resolve

    services = _wired_services(args)
    # One name, or several (comma-separated) sharing this process, each in its own thread.
    pool = WorkerPool(services, resolve(services, args.name))
    if not pool.names:
        raise NotFound("name at least one worker (`clearframe workers` lists them)")
    _stop_on_signals(pool.stop)
    pool.start()
    names = ", ".join(pool.names)
    print(f"worker {names} running (Ctrl-C to stop)", flush=True)
    while not pool.stop.wait(0.5):
        pass
    pool.close()
    print(f"worker {names} stopped", flush=True)
    return 0


def cmd_consumers(args: argparse.Namespace) -> int:
    """Where each consumer stands against the store, one JSON object a line."""
    from core.modules import all_processors, all_projections
    from core.projections import consumer_status

    services = _wired_services(args)
    factories = {**all_projections(), **all_processors()}
    wanted = sorted(factories) if not args.names else args.names
    unknown = [n for n in wanted if n not in factories]
    if unknown:
        raise NotFound(f"unknown consumer(s) {unknown}; known: {sorted(factories)}")
    behind = 0
    for name in wanted:
        status = consumer_status(services, factories[name](services))
        behind += status["unapplied"] > 0
        print(json.dumps(status), flush=True)
    return 1 if behind and args.check else 0


def cmd_dead_letters(args: argparse.Namespace) -> int:
    """List dead letters, or retry them (core/deadletters.py); 1 if a retry failed again."""
    from core.deadletters import list_dead_letters, retry_dead_letter

    services = _wired_services(args)
    if args.action == "list":
        for item in list_dead_letters(services, args.consumer):
            print(json.dumps(item), flush=True)
        return 0
    if not args.ids:
        raise CliError("name the dead letters to retry: dead-letters retry ID [ID ...]", 2)
    failed = 0
    for dead_letter_id in args.ids:
        outcome = retry_dead_letter(services, dead_letter_id, _cli_actor())
        failed += outcome.outcome == "failed"
        print(json.dumps(outcome.as_dict()), flush=True)
    return 1 if failed else 0


def cmd_relay_status(args: argparse.Namespace) -> int:
    """One JSON object: the unpublished outbox rows, the oldest one's position and age."""
    from sqlalchemy.exc import SQLAlchemyError

    from core.db import make_engine, make_session_factory
    from core.outbox import relay_lag

    settings = getattr(args, "_settings", None) or Settings()
    url = settings.effective_database_url
    if url.startswith("sqlite") and not Path(url.split("///", 1)[-1]).exists():
        raise CliError(f"no database at {_where(url)} yet: run `clearframe migrate` first", 1)
    engine = make_engine(url, read_only=True)
    try:
        lag = relay_lag(make_session_factory(engine))
    except SQLAlchemyError as exc:
        raise CliError(f"cannot read the outbox: {_database_reason(exc)}", code=1) from None
    finally:
        engine.dispose()
    print(json.dumps(lag.as_dict()))
    return 0


def cmd_workers(args: argparse.Namespace) -> int:
    from core.workers import worker_names

    for name in worker_names(_services(args)):
        print(name)
    return 0


def _projection(services: Services, name: str) -> Any:
    from core.modules import all_projections

    factories = all_projections()
    if name not in factories:
        raise NotFound(f"unknown projection {name!r}; known: {sorted(factories)}")
    return factories[name](services)


def cmd_rebuild(args: argparse.Namespace) -> int:
    from core.replay import rebuild

    services = _wired_services(args)
    rebuild(_projection(services, args.name), services, progress=not args.no_progress)
    return 0


def cmd_replay_check(args: argparse.Namespace) -> int:
    from core.modules import all_processors, all_projections
    from core.replay import BEHIND, DIFFERENT, replay_check

    services = _wired_services(args)
    factories = all_projections()
    processors = sorted(all_processors())
    if args.only:
        not_checked = sorted(set(args.only) & set(processors))
        if not_checked:
            raise CliError(f"{not_checked}: processors keep no read model; nothing to check")
        unknown = sorted(set(args.only) - set(factories))
        if unknown:
            raise NotFound(f"unknown projection(s) {unknown}; known: {sorted(factories)}")
        factories = {k: v for k, v in factories.items() if k in args.only}
    if args.wait_s < 0 or args.examples < 0:
        raise CliError("--wait-s and --examples must not be negative")
    report = replay_check(
        services,
        factories,
        args.scratch_url,
        progress=not args.no_progress,
        wait_s=args.wait_s,
        max_examples=args.examples,
        skipped=() if args.only else processors,
    )
    for d in report:
        print(d.summary(), file=sys.stderr)
        for line in d.examples:
            print(f"  {line}", file=sys.stderr)
    at = f"at store position {report.position}"
    if report.state == DIFFERENT:
        different = [
            f"{name} ({sum(d.count for d in report.checks[name].diffs)} difference(s))"
            for name in report.projections_in(DIFFERENT)
        ]
        behind = report.projections_in(BEHIND)
        print(
            f"replay-check {at}: DIFFERENT: {', '.join(different)}"
            + (f"; BEHIND: {', '.join(behind)}" if behind else "")
        )
        return 1
    if report.state == BEHIND:
        print(f"replay-check {at}: BEHIND: {', '.join(report.projections_in(BEHIND))}")
        return EXIT_BEHIND
    print(f"replay-check {at}: {len(report.checks)} projection(s) identical")
    return 0


def cmd_principal_create(args: argparse.Namespace) -> int:
    from core.auth import create_principal, issue_token

    services = _services(args)
    actor = _cli_actor()
    pid = create_principal(services.sessions, args.name, args.role, args.id, actor=actor)
    out: dict[str, Any] = {"principal_id": pid, "roles": sorted(set(args.role))}
    if args.with_token:
        token_id, token = issue_token(
            services.sessions, services.settings, pid, "created with principal", actor=actor
        )
        out |= {"token_id": str(token_id), "token": token}
    print(json.dumps(out))
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    from core.auth import issue_token

    services = _services(args)
    token_id, token = issue_token(
        services.sessions, services.settings, args.principal, args.label, actor=_cli_actor()
    )
    print(json.dumps({"token_id": str(token_id), "token": token}))
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from core.auth import revoke_token

    try:
        token_id = uuid.UUID(args.token_id)
    except ValueError:
        raise CliError(f"not a token id: {args.token_id!r}") from None
    revoke_token(_services(args).sessions, token_id, actor=_cli_actor())
    print(f"revoked {token_id}")
    return 0


def _cli_actor() -> Any:
    """Who an operator command is recorded as: the operating-system user who ran it."""
    import getpass

    from core.events import Actor

    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment (a bare container)
        user = "unknown"
    return Actor(id=f"cli:{user}"[:128], role="operator")


def cmd_principal_roles(args: argparse.Namespace) -> int:
    from core.auth import change_roles

    changed = change_roles(
        _services(args).sessions, args.principal_id, args.role, actor=_cli_actor()
    )
    print(
        json.dumps(
            {"principal_id": args.principal_id, "roles": sorted(set(args.role)), "changed": changed}
        )
    )
    return 0


def cmd_principal_assure_age(args: argparse.Namespace) -> int:
    """An operator attests that the account belongs to an adult (``AgeAssured``, source
    operator): in development, and in operations after checking the person's age outside
    the system."""
    from core.auth import assure_age
    from core.identity import AgeAssuranceSource

    recorded = assure_age(
        _services(args).sessions,
        args.principal_id,
        AgeAssuranceSource.OPERATOR,
        actor=_cli_actor(),
        reference=args.ref,
    )
    print(json.dumps({"principal_id": args.principal_id, "recorded": recorded}))
    return 0


def cmd_principal_login_link(args: argparse.Namespace) -> int:
    """A one-time console sign-in link. The secret rides in the URL's fragment, which a
    browser never sends to a server: it stays out of access logs and Referer headers."""
    from core.browser_sessions import issue_login_link

    services = _services(args)
    base = args.base_url or f"http://{services.settings.api_host}:{services.settings.api_port}"
    if not base.startswith(("http://", "https://")):
        raise ValidationFailed("--base-url must start with http:// or https://")
    link_id, secret, expires_at = issue_login_link(
        services.sessions,
        services.settings,
        args.principal_id,
        args.ttl_minutes * 60,
        actor=_cli_actor(),
    )
    url = f"{base.rstrip('/')}/console/sign-in#link={secret}"
    print(json.dumps({"link_id": str(link_id), "url": url, "expires_at": expires_at.isoformat()}))
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    """The recorded events of one principal, one stream, or of given types: the audit trail."""
    import difflib

    from sqlalchemy.exc import SQLAlchemyError

    from core.events import REGISTRY, stream_category
    from core.identity import principal_stream
    from core.modules import import_all_models

    if args.limit < 1 or args.limit > 10_000 or args.after < 0:
        raise CliError("--limit must be 1..10000 and --after not negative")
    if args.what is None and not args.type:
        raise CliError(
            "say what to show: `history principal ID`, `history stream STREAM_ID` "
            "or `history --type EVENT_TYPE`"
        )
    if args.what is not None and not args.key:
        raise CliError(f"`history {args.what}` needs an id")
    if args.what is None and args.key:
        raise CliError(
            f"unexpected argument {args.key!r}: `history principal ID` or "
            "`history stream STREAM_ID`"
        )
    if args.type:
        import_all_models()
        for name in args.type:
            if not REGISTRY.known(name):
                close = difflib.get_close_matches(name, REGISTRY.names(), n=3)
                hint = f"; did you mean {' or '.join(close)}?" if close else ""
                raise CliError(f"unknown event type {name!r}{hint}")
    stream = None
    if args.what == "principal":
        stream = principal_stream(args.key)
    elif args.what == "stream":
        stream = args.key
        stream_category(stream)  # a clear error for a malformed id
    services = _services(args)
    try:
        if stream is not None:
            events = [
                e
                for e in services.store.read_stream(stream, from_version=1)
                if e.position > args.after and (not args.type or e.type in args.type)
            ][: args.limit]
        else:
            events = services.store.read_all(
                after_position=args.after, limit=args.limit, types=args.type
            )
    except SQLAlchemyError as exc:
        raise CliError(f"cannot read the event store: {type(exc).__name__}", code=1) from None
    if not events:
        what = f"stream {stream}" if stream else f"events of type {', '.join(args.type)}"
        raise NotFound(
            f"no recorded {what}" + (f" after position {args.after}" if args.after else "")
        )
    for e in events:
        if args.json:
            print(json.dumps(e.to_wire(), sort_keys=True, ensure_ascii=False))
        else:
            at = e.occurred_at.isoformat(timespec="seconds")
            payload = json.dumps(e.payload, sort_keys=True, ensure_ascii=False)
            print(
                f"{e.position:>8}  {at}  {e.stream_id} v{e.stream_version}  {e.type}  "
                f"by {e.actor.id} ({e.actor.role})  {payload}"
            )
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    """Erase a person's personal data (crypto-shredding; see docs/privacy.md)."""
    from core.privacy import erase_personal_data

    if args.settle_s < 0 or args.settle_s > 600:
        raise CliError("--settle-s must be 0..600")
    if args.ref is not None and not 1 <= len(args.ref) <= 200:
        raise CliError("--ref must be 1..200 characters")
    report = erase_personal_data(
        _services(args),
        args.principal_id,
        _cli_actor(),
        request_ref=args.ref,
        settle_s=args.settle_s,
    )
    print(json.dumps(report.as_dict(), sort_keys=True))
    return 0 if report.settled else 1


def cmd_settings(args: argparse.Namespace) -> int:
    settings = Settings()
    shown = settings.model_dump(mode="json")
    for secret in ("secret_key", "dev_admin_token"):
        shown[secret] = "***" if shown.get(secret) else ""
    print(json.dumps(shown, indent=2, sort_keys=True))
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        raise CliError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="clearframe", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("serve", help="run the API and the in-process workers")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--workers", help="all, none, or a comma-separated list (default: settings)")
    p.add_argument("--no-migrate", action="store_true", help="do not migrate on start")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run workers in this process (each a consumer-group member)")
    p.add_argument("name", help="a worker name, or several separated by commas")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser(
        "consumers",
        help="print each consumer's watermark, the store's head and what it has not applied",
    )
    p.add_argument("names", nargs="*", help="consumer names (default: all)")
    p.add_argument("--check", action="store_true", help="exit 1 if any consumer is behind")
    p.set_defaults(func=cmd_consumers)

    p = sub.add_parser(
        "relay-status",
        help="print the outbox relay's lag as JSON "
        "(unpublished rows, oldest unpublished position and its age in seconds)",
    )
    p.set_defaults(func=cmd_relay_status)

    p = sub.add_parser("workers", help="list the worker names")
    p.set_defaults(func=cmd_workers)

    p = sub.add_parser("migrate", help="apply database migrations")
    p.add_argument("--revision", default="heads")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("rebuild", help="drop one projection and rebuild it by replay")
    p.add_argument("name")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_rebuild)

    p = sub.add_parser(
        "replay-check",
        help="replay every projection into a scratch database at the store's current "
        "position and diff it against the live one (exit 1 on a difference, "
        f"{EXIT_BEHIND} if a projection is behind the store)",
    )
    p.add_argument("--scratch-url", help="database URL for the scratch copy (default: temp SQLite)")
    p.add_argument("--only", action="append", help="check only this projection (repeatable)")
    p.add_argument(
        "--wait-s",
        type=float,
        default=60.0,
        help="how long to wait for the projections to apply the store up to the check's "
        "position before calling them BEHIND (default: 60)",
    )
    p.add_argument(
        "--examples", type=int, default=5, help="example rows printed per difference (default: 5)"
    )
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_replay_check)

    p = sub.add_parser("principal", help="manage principals")
    psub = p.add_subparsers(dest="action", required=True, parser_class=_Parser)
    pc = psub.add_parser("create", help="create a principal")
    pc.add_argument("--name", required=True)
    pc.add_argument(
        "--role",
        action="append",
        required=True,
        help="user, rights_holder, trusted_flagger, investigator, reviewer, admin, "
        "liveness_provider, age_assurance_provider",
    )
    pc.add_argument("--id", help="principal id (default: generated)")
    pc.add_argument("--with-token", action="store_true", help="also issue an API token")
    pc.set_defaults(func=cmd_principal_create)

    p = sub.add_parser("token", help="manage API tokens")
    tsub = p.add_subparsers(dest="action", required=True, parser_class=_Parser)
    tc = tsub.add_parser("create", help="issue a token (shown once)")
    tc.add_argument("--principal", required=True)
    tc.add_argument("--label", default="")
    tc.set_defaults(func=cmd_token_create)
    tr = tsub.add_parser("revoke", help="revoke a token by id")
    tr.add_argument("token_id")
    tr.set_defaults(func=cmd_token_revoke)
    pr = psub.add_parser("roles", help="give a principal exactly these roles (RoleChanged)")
    pr.add_argument("principal_id")
    pr.add_argument("--role", action="append", required=True, help="repeat for several roles")
    pr.set_defaults(func=cmd_principal_roles)
    pa = psub.add_parser(
        "assure-age",
        help="attest that a principal is an adult (AgeAssured): generating and uploading need it",
    )
    pa.add_argument("principal_id")
    pa.add_argument(
        "--ref", required=True, help="where the check is recorded (a ticket id), not a document"
    )
    pa.set_defaults(func=cmd_principal_assure_age)
    pl = psub.add_parser(
        "login-link",
        help="print a one-time link that signs the principal in to the console (LoginLinkIssued)",
    )
    pl.add_argument("principal_id")
    pl.add_argument(
        "--ttl-minutes", type=int, default=15, help="how long the link works (1-1440, default 15)"
    )
    pl.add_argument("--base-url", help="the console's address (default: http://API_HOST:API_PORT)")
    pl.set_defaults(func=cmd_principal_login_link)

    p = sub.add_parser(
        "history",
        help="print recorded events: `history principal ID`, `history stream STREAM_ID`, "
        "`history --type TokenRevoked` (the audit trail of who did what)",
    )
    p.add_argument("what", nargs="?", choices=["principal", "stream"])
    p.add_argument("key", nargs="?", help="the principal id or the stream id")
    p.add_argument("--type", action="append", help="only events of this type (repeatable)")
    p.add_argument("--after", type=int, default=0, help="only events after this position")
    p.add_argument("--limit", type=int, default=1000, help="at most this many (default 1000)")
    p.add_argument("--json", action="store_true", help="one JSON envelope per line")
    p.set_defaults(func=cmd_history)

    p = sub.add_parser(
        "erase",
        help="erase a person's personal data: their key (crypto-shredding the event log), "
        "the copies in every read model; records PersonalDataErased (docs/privacy.md)",
    )
    p.add_argument("principal_id")
    p.add_argument("--ref", help="the request's reference (a ticket id), not its text")
    p.add_argument(
        "--settle-s",
        type=float,
        default=10.0,
        help="how long to wait for projections to apply the store before the second scrub "
        "(exit 1 if one is still behind: run it again)",
    )
    p.set_defaults(func=cmd_erase)

    p = sub.add_parser("settings", help="print the effective settings (secrets masked)")
    p.set_defaults(func=cmd_settings)

    p = sub.add_parser(
        "dead-letters",
        help="list the events consumers gave up on (one JSON object a line), or retry them",
    )
    p.add_argument("action", nargs="?", choices=["list", "retry"], default="list")
    p.add_argument("ids", nargs="*", type=int, help="dead letter ids (retry)")
    p.add_argument("--consumer", help="only this consumer's dead letters (list)")
    p.set_defaults(func=cmd_dead_letters)

    from core.modules import install_cli

    install_cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    verbose = False
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        verbose = args.verbose
        if args.verbose:
            logging.getLogger().setLevel(logging.INFO)
        from core.preflight import checked_settings

        # before any command imports its heavy code or touches the database
        args._settings = checked_settings()
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except ClearframeError as exc:
        print(f"error [{exc.code}]: {exc.detail}", file=sys.stderr)
        return EXIT_INPUT
    except ConfigurationError as exc:
        print(f"error [configuration]: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except ValidationError as exc:
        # the locations and messages only: the input may be a secret or a prompt
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()
        )
        print(f"error [validation_failed]: {where}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return _unexpected(exc, verbose)


def _database_reason(exc: Exception) -> str:
    """The driver's first line, never str(exc): that holds the SQL statement."""
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    if "no such table" in first or type(orig).__name__ == "UndefinedTable":
        return f"the database schema is behind this version ({first}): run `clearframe migrate`"
    return f"{type(orig).__name__}: {first}"


def _unexpected(exc: Exception, verbose: bool) -> int:
    """One line for anything else; the traceback only with --verbose."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is not None and isinstance(exc, sa_exc.SQLAlchemyError):
        print(f"error [database]: {_database_reason(exc)}", file=sys.stderr)
    else:
        code = getattr(exc, "code", None)
        label = code if isinstance(code, str) else "internal"
        hint = "" if verbose else " (run with -v for the traceback)"
        print(f"error [{label}]: {type(exc).__name__}: {exc}{hint}", file=sys.stderr)
    if verbose:
        traceback.print_exception(exc, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
