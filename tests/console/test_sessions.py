"""Console sign-in over HTTP: cookies, CSRF, login links, sign-out, the page guard, headers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from core.auth import revoke_token
from core.browser_sessions import SESSION_COOKIE, issue_login_link
from core.services import Services
from core.store import EventStore
from tests.utils import make_principal

ORIGIN = {"Origin": "http://testserver"}


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].split(" ", 1)[1]


def sign_in(client: TestClient, token: str) -> dict[str, str]:
    r = client.post("/console/session", json={"token": token}, headers=ORIGIN)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_token_sign_in_sets_a_strict_httponly_cookie_that_the_api_accepts(
    client: TestClient, services: Services
) -> None:
    pid, headers = make_principal(services, "reviewer", name="Rae Reviewer")
    r = client.post("/console/session", json={"token": _token(headers)}, headers=ORIGIN)
    assert r.status_code == 201, r.text
    cookie = r.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=cfs_" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=" in cookie
    assert "Secure" not in cookie  # plain http in development; production marks it Secure
    body = r.json()
    assert body["principal_id"] == pid and body["home"] == "/console/review"
    assert body["views"] == ["/console/review"]
    assert _token(headers) not in r.text  # the token is never echoed
    # the cookie now authenticates the API under the API's own role rules
    assert client.get("/v1/cases/queue").status_code == 200
    assert client.get("/v1/moderation/lists").status_code == 403
    who = client.get("/console/session").json()
    assert who["csrf_token"] == body["csrf_token"]


def test_a_state_change_by_cookie_needs_the_csrf_token_and_this_origin(
    client: TestClient, services: Services
) -> None:
    _, headers = make_principal(services, "user")
    csrf = sign_in(client, _token(headers))["csrf_token"]
    prompt = {"prompt": "a paper boat on a pond", "duration_s": 3, "resolution": "360p"}
    missing = client.post("/v1/generations", json=prompt)
    assert missing.status_code == 403 and missing.json()["code"] == "csrf_failed"
    assert "reload the page" in missing.json()["detail"]
    wrong = client.post("/v1/generations", json=prompt, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403 and wrong.json()["code"] == "csrf_failed"
    other_site = client.post(
        "/v1/generations",
        json=prompt,
        headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
    )
    assert other_site.status_code == 403 and "another site" in other_site.json()["detail"]
    ok = client.post("/v1/generations", json=prompt, headers={"X-CSRF-Token": csrf, **ORIGIN})
    assert ok.status_code == 202, ok.text


def test_sign_in_refuses_bad_credentials_and_other_origins(
    client: TestClient, services: Services
) -> None:
    _, headers = make_principal(services, "user")
    for body, code in (
        ({"token": "cf_not-a-real-token"}, 401),
        ({"token": "no-prefix"}, 401),
        ({"link": "cfl_unknown"}, 401),
        ({}, 422),
        ({"token": _token(headers), "link": "cfl_x"}, 422),
        ({"token": "x" * 500}, 422),
    ):
        r = client.post("/console/session", json=body, headers=ORIGIN)
        assert r.status_code == code, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "set-cookie" not in r.headers
    forged = client.post(
        "/console/session", json={"token": _token(headers)}, headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 403 and forged.json()["code"] == "csrf_failed"
    garbled = client.post(
        "/console/session", content=b"{not json", headers={**ORIGIN, "Content-Type": "application/json"}
    )
    assert garbled.status_code in (400, 422)


def test_a_login_link_works_once_and_is_recorded(client: TestClient, services: Services) -> None:
    pid, _ = make_principal(services, "investigator")
    link_id, secret, _ = issue_login_link(services.sessions, services.settings, pid, 600)
    first = client.post("/console/session", json={"link": secret}, headers=ORIGIN)
    assert first.status_code == 201 and first.json()["home"] == "/console/investigate"
    client.cookies.clear()
    again = client.post("/console/session", json={"link": secret}, headers=ORIGIN)
    assert again.status_code == 401 and "used already" in again.json()["detail"]
    types = [e.type for e in EventStore(services.sessions).read_stream(f"principal-{pid}")]
    assert "LoginLinkIssued" in types and "BrowserSessionStarted" in types
    assert secret not in json.dumps([e.model_dump(mode="json") for e in EventStore(services.sessions).read_stream(f"principal-{pid}")])
    assert link_id


def test_sign_out_ends_the_session_on_the_server(client: TestClient, services: Services) -> None:
    pid, headers = make_principal(services, "user")
    csrf = sign_in(client, _token(headers))["csrf_token"]
    stolen = client.cookies.get(SESSION_COOKIE)
    out = client.delete("/console/session", headers={"X-CSRF-Token": csrf, **ORIGIN})
    assert out.status_code == 204
    # a copy of the cookie kept elsewhere no longer works either
    client.cookies.set(SESSION_COOKIE, stolen or "")
    after = client.get("/console/session")
    assert after.status_code == 401 and "signed out" in after.json()["detail"]
    types = [e.type for e in EventStore(services.sessions).read_stream(f"principal-{pid}")]
    assert types[-1] == "BrowserSessionEnded"


def test_revoking_the_token_ends_its_sessions(client: TestClient, services: Services) -> None:
    _, headers = make_principal(services, "user")
    sign_in(client, _token(headers))
    assert client.get("/console/session").status_code == 200
    from sqlalchemy import select

    from core.auth import ApiToken

    with services.sessions() as s:
        token_id = s.scalars(select(ApiToken.id)).all()[-1]
    revoke_token(services.sessions, token_id)
    assert client.get("/console/session").status_code == 401


def test_pages_redirect_signed_out_visitors_and_refuse_the_wrong_role(
    client: TestClient, services: Services
) -> None:
    r = client.get("/console/review", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/sign-in?next=/console/review"
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/sign-in"
    _, headers = make_principal(services, "user", name="Uma <script>alert(1)</script>")
    sign_in(client, _token(headers))
    refused = client.get("/console/review")
    assert refused.status_code == 403 and "needs the role: reviewer" in refused.text
    mine = client.get("/console/me")
    assert mine.status_code == 200
    assert "<script>alert(1)" not in mine.text and "&lt;script&gt;" in mine.text
    assert '<script type="module" src="/console/static/js/views/user.js">' in mine.text
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/me"


def test_console_responses_carry_a_strict_content_security_policy(client: TestClient) -> None:
    page = client.get("/console/sign-in")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    # no inline script anywhere in the shell: every <script> names a file
    assert "<script>" not in page.text and "<script type=\"module\" src=" in page.text
    js = client.get("/console/static/js/api.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    again = client.get("/console/static/js/api.js", headers={"If-None-Match": js.headers["etag"]})
    assert again.status_code == 304
    for hostile in ("../router.py", "..%2f..%2fcore%2fsettings.py", "shell.html", "js/nope.js"):
        assert client.get(f"/console/static/{hostile}").status_code == 404


def test_login_link_command_prints_a_link_with_the_secret_in_the_fragment(
    services: Services, tmp_path: Path
) -> None:
    pid, _ = make_principal(services, "user")
    env_url = services.settings.effective_database_url
    out = subprocess.run(
        [str(Path(sys.executable).parent / "clearframe"), "principal", "login-link", pid,
         "--base-url", "https://console.example"],
        capture_output=True,
        text=True,
        env={"CLEARFRAME_DATABASE_URL": env_url, "PATH": "/usr/bin:/bin",
             "CLEARFRAME_DATA_DIR": str(tmp_path)},
        check=False,
    )
    assert out.returncode == 0, out.stderr
    printed = json.loads(out.stdout)
    assert printed["url"].startswith("https://console.example/console/sign-in#link=cfl_")
    bad = subprocess.run(
        [str(Path(sys.executable).parent / "clearframe"), "principal", "login-link", pid,
         "--ttl-minutes", "0"],
        capture_output=True,
        text=True,
        env={"CLEARFRAME_DATABASE_URL": env_url, "PATH": "/usr/bin:/bin",
             "CLEARFRAME_DATA_DIR": str(tmp_path)},
        check=False,
    )
    assert bad.returncode != 0 and "60 to" in bad.stderr and "Traceback" not in bad.stderr
