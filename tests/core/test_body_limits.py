"""Body limits over real HTTP: 413 problem+json, chunked or not, whatever the declared type.

A live uvicorn serves the app; requests are written on a raw socket so a chunked body can be
left unfinished: a server that waited for the whole body before answering would never
answer those, so each 413 here proves the answer came from the bytes over the limit alone.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from core.app import create_app
from core.services import Services
from tests.conftest import free_port
from tests.utils import make_principal
from tests.utils.bombs import bomb_png

JSON_LIMIT = 64 * 1024
UPLOAD_LIMIT = 512 * 1024
REPORT = {
    "target": {"kind": "account", "id": "acct-1"},
    "category": "spam",
    "explanation": "this is spam, plainly",
    "good_faith": True,
}


@dataclass
class Live:
    services: Services
    port: int
    user: dict[str, str]
    investigator: dict[str, str]


@pytest.fixture
def live(make_services: Callable[..., Services]) -> Iterator[Live]:
    import uvicorn

    services = make_services("sqlite", max_body_bytes=JSON_LIMIT, max_upload_bytes=UPLOAD_LIMIT)
    _, user = make_principal(services, "user")
    _, investigator = make_principal(services, "investigator")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield Live(services, port, user, investigator)
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def problem(self) -> dict[str, object]:
        assert self.headers.get("content-type", "").startswith("application/problem+json")
        return json.loads(self.body)  # type: ignore[no-any-return]


def _exchange(
    port: int,
    path: str,
    headers: dict[str, str],
    body: bytes,
    *,
    chunked: bool,
    finish: bool,
    declared_length: int | None = None,
) -> Answer:
    """Write a POST, ``body`` chunked or with a Content-Length, finished or left hanging,
    and read the answer (the socket times out after 30 s: no answer fails the test)."""
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    else:
        lines.append(
            f"Content-Length: {declared_length if declared_length is not None else len(body)}"
        )
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        try:
            if chunked:
                for start in range(0, len(body), 16 * 1024):
                    piece = body[start : start + 16 * 1024]
                    sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                if finish:
                    sock.sendall(b"0\r\n\r\n")
            else:
                sock.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed while we were still writing
        received = b""
        while b"\r\n\r\n" not in received:
            data = sock.recv(65536)
            assert data, f"the connection closed without an answer: {received!r}"
            received += data
        head_bytes, rest = received.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head_bytes.decode("latin-1").split("\r\n")
        answer_headers = {
            k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)
        }
        length = int(answer_headers.get("content-length", "0"))
        while len(rest) < length:
            data = sock.recv(65536)
            if not data:
                break
            rest += data
    return Answer(int(status_line.split()[1]), answer_headers, rest[:length])


def _json_bytes(size: int) -> bytes:
    """A JSON document of about ``size`` bytes (a report whose explanation is padding)."""
    return json.dumps({**REPORT, "explanation": "x" * size}).encode()


def _auth(headers: dict[str, str], content_type: str) -> dict[str, str]:
    return {**headers, "Content-Type": content_type}


@pytest.mark.parametrize("content_type", ["application/json", "video/mp4", "text/plain"])
def test_a_json_route_answers_an_unfinished_chunked_oversize_body_with_413(
    live: Live, content_type: str
) -> None:
    # 50 MB of JSON labelled video/mp4 used to get the upload limit and be read in full;
    # here the body is never finished, so only the bytes over the JSON limit can trigger it.
    answer = _exchange(
        live.port,
        "/v1/reports",
        _auth(live.user, content_type),
        _json_bytes(JSON_LIMIT + 64 * 1024),
        chunked=True,
        finish=False,
    )
    assert answer.status == 413
    problem = answer.problem()
    assert problem["code"] == "payload_too_large"
    assert str(JSON_LIMIT) in str(problem["detail"])


@pytest.mark.parametrize("content_type", ["application/json", "video/mp4", "image/png"])
def test_a_json_route_answers_a_declared_oversize_body_with_413_before_it_is_sent(
    live: Live, content_type: str
) -> None:
    answer = _exchange(
        live.port,
        "/v1/reports",
        _auth(live.user, content_type),
        b"",
        chunked=False,
        finish=False,
        declared_length=50 * 1024 * 1024,
    )
    assert answer.status == 413
    assert answer.problem()["code"] == "payload_too_large"


def _multipart(name: str, data: bytes, media_type: str) -> tuple[str, bytes]:
    boundary = "clearframe-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: {media_type}\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return f"multipart/form-data; boundary={boundary}", body


@pytest.mark.parametrize("chunked", [True, False])
def test_upload_routes_get_the_upload_limit_chunked_or_not(live: Live, chunked: bool) -> None:
    ctype, body = _multipart("big.mp4", b"\0" * (UPLOAD_LIMIT + 64 * 1024), "video/mp4")
    for path in ("/v1/reverse-search/searches", "/v1/provenance/verify"):
        answer = _exchange(
            live.port, path, _auth(live.investigator, ctype), body, chunked=chunked, finish=False
        )
        assert answer.status == 413, (path, answer)
        assert str(UPLOAD_LIMIT) in str(answer.problem()["detail"])
    # the raw-body route reads the asset itself and is marked as taking uploads
    answer = _exchange(
        live.port,
        "/v1/c2pa/matches/byContent",
        _auth(live.investigator, "video/mp4"),
        b"\0" * (UPLOAD_LIMIT + 64 * 1024),
        chunked=chunked,
        finish=False,
    )
    assert answer.status == 413
    assert str(UPLOAD_LIMIT) in str(answer.problem()["detail"])


def test_bodies_within_the_limits_still_pass(live: Live) -> None:
    report = json.dumps(REPORT).encode()
    for chunked in (True, False):
        answer = _exchange(
            live.port,
            "/v1/reports",
            _auth(live.user, "application/json"),
            report,
            chunked=chunked,
            finish=True,
        )
        assert answer.status == 201, answer
    # an upload over the JSON limit but under the upload limit reaches the route, which
    # judges the file itself (a bomb here: 422, not 413)
    ctype, body = _multipart("bomb.png", bomb_png() + b"\0" * (2 * JSON_LIMIT), "image/png")
    for chunked in (True, False):
        answer = _exchange(
            live.port,
            "/v1/reverse-search/searches",
            _auth(live.investigator, ctype),
            body,
            chunked=chunked,
            finish=True,
        )
        assert answer.status == 422, answer
        assert answer.problem()["code"] == "media_limit_exceeded"


def test_testclient_sees_the_same_limits(services: Services, client) -> None:
    _, user = make_principal(services, "user")
    limit = services.settings.max_body_bytes
    big = _json_bytes(limit + 1)
    for content_type in ("application/json", "video/mp4", "application/octet-stream"):
        response = client.post("/v1/reports", headers=_auth(user, content_type), content=big)
        assert response.status_code == 413, (content_type, response.text)
        assert response.json()["code"] == "payload_too_large"
    # a chunked body (no Content-Length): the bytes are counted as they come
    response = client.post(
        "/v1/reports",
        headers=_auth(user, "video/mp4"),
        content=iter([big[: limit // 2], big[limit // 2 :]]),
    )
    assert response.status_code == 413
    assert client.post("/v1/reports", headers=user, json=REPORT).status_code == 201
