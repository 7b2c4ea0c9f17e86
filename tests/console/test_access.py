"""Access control and CSRF over HTTP: every console route, GET and POST, without a session reveals nothing."""

from __future__ import annotations

import logging
import re

from click.testing import CliRunner

from tests.console.conftest import ADMIN, SECRETS, STAFF, csrf_token, login, make_app, post

# A value for every URL variable of the console's routes, so each route is requested for real.
VALUES = {"kind": "tenants", "key": "1", "number": "1", "call_id": "1", "name": "hotline", "action": "done",
          "account_id": "1", "lang": "en", "project_id": "senioren-wg-lindenhof"}
PUBLIC = {"console.login", "console.static", "console.language"}


def console_routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) for every console route and method, with real values filled in."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("console.") or rule.endpoint in PUBLIC:
            continue
        path = rule.build({name: VALUES[name] for name in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, path))
    return routes


def test_every_console_route_is_covered(app):
    endpoints = {endpoint for endpoint, _, _ in console_routes(app)}
    # The pages the issue names are all there (a renamed route would silently drop out of the check below).
    assert {"console.overview", "console.tasks", "console.task", "console.task_action", "console.calls",
            "console.call", "console.directory", "console.directory_upload", "console.directory_csv",
            "console.directory_delete", "console.flows", "console.flow", "console.flow_card",
            "console.flow_upload", "console.simulator", "console.staff", "console.logout", "console.housing",
            "console.housing_project", "console.housing_upload", "console.housing_csv",
            "console.housing_report"} <= endpoints
    assert len(console_routes(app)) >= 30


def test_without_login_every_route_redirects_to_login_and_shows_nothing(app, client):
    for endpoint, method, path in console_routes(app):
        response = client.open(path, method=method, data={"email": "x", "q": "Becker"})
        assert response.status_code in (302, 303, 403), (endpoint, method, path, response.status_code)
        if response.status_code != 403:
            assert response.headers["Location"].startswith("/login"), (endpoint, path)
        body = response.get_data(as_text=True)
        for secret in SECRETS:
            assert secret not in body, (endpoint, method, path, secret)


def test_the_named_pages_redirect_to_login(client):
    for path in ("/tasks", "/calls", "/directory", "/flows", "/simulator", "/housing", "/housing/report", "/"):
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["Location"] == f"/login?next={path}"
        login_page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert 'name="email"' in login_page and 'name="password"' in login_page and 'action="/login"' in login_page
        assert not any(secret in login_page for secret in SECRETS), path


def test_login_then_logout(client):
    response = login(client, STAFF)
    assert response.headers["Location"] == "/"
    assert "Bernd Büro" in client.get("/").get_data(as_text=True)
    response = post(client, "/logout")
    assert response.status_code == 303
    assert client.get("/tasks").status_code == 303


def test_after_login_the_page_asked_for_opens(client):
    target = client.get("/directory?kind=houses").headers["Location"]
    token = csrf_token(client, target)
    response = client.post("/login", data={"email": STAFF[0], "password": STAFF[1], "csrf_token": token,
                                           "next": "/directory?kind=houses"})
    assert response.headers["Location"] == "/directory?kind=houses"
    # Never to another site.
    post(client, "/logout")
    response = client.post("/login", data={"email": STAFF[0], "password": STAFF[1], "csrf_token": csrf_token(client),
                                           "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_wrong_password_and_unknown_account_get_the_same_answer(client):
    token = csrf_token(client)
    wrong = client.post("/login", data={"email": STAFF[0], "password": "nope-nope-nope", "csrf_token": token})
    unknown = client.post("/login", data={"email": "nobody@talblick.example", "password": "nope-nope-nope",
                                          "csrf_token": token})
    assert wrong.status_code == unknown.status_code == 401
    assert "E-Mail-Adresse oder Passwort stimmt nicht." in wrong.get_data(as_text=True)
    def strip(response, email):
        # The form keeps what was typed; the signed CSRF token carries the second it was made.
        return re.sub(r'name="csrf_token" value="[^"]+"', "", response.get_data(as_text=True).replace(email, ""))

    assert strip(wrong, STAFF[0]) == strip(unknown, "nobody@talblick.example")
    assert client.get("/tasks").status_code == 303


def test_repeated_wrong_passwords_slow_down_per_account_and_are_logged_masked(client, caplog):
    caplog.set_level(logging.WARNING, logger="hausruf.console")
    token = csrf_token(client)
    for _ in range(5):
        assert client.post("/login", data={"email": ADMIN[0], "password": "wrong-password!",
                                           "csrf_token": token}).status_code == 401
    # Now even the right password waits, from any address: the account is being guessed at.
    response = client.post("/login", data={"email": ADMIN[0], "password": ADMIN[1], "csrf_token": token},
                           environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert response.status_code == 429
    assert "Zu viele falsche Versuche" in response.get_data(as_text=True)
    # An unknown account looks just the same after as many tries.
    for _ in range(5):
        client.post("/login", data={"email": "ghost@talblick.example", "password": "x" * 12, "csrf_token": token},
                    environ_base={"REMOTE_ADDR": "192.0.2.8"})
    assert client.post("/login", data={"email": "ghost@talblick.example", "password": "x" * 12, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 429
    # Another account from another address is not held up.
    assert client.post("/login", data={"email": STAFF[0], "password": STAFF[1], "csrf_token": token},
                       environ_base={"REMOTE_ADDR": "192.0.2.10"}).status_code == 303
    logged = caplog.text
    assert "a***@talblick.example" in logged and ADMIN[0] not in logged and "ghost@" not in logged


def test_throttling_counts_the_client_behind_a_trusted_proxy_not_the_proxy(tmp_path, seed):
    app = make_app(tmp_path, seed, trusted_proxies=1)
    client = app.test_client()
    token = csrf_token(client)
    proxy = {"REMOTE_ADDR": "10.0.0.5"}
    for n in range(5):  # five different accounts guessed from one client
        client.post("/login", data={"email": f"guess{n}@talblick.example", "password": "x" * 12, "csrf_token": token},
                    environ_base=proxy, headers={"X-Forwarded-For": "198.51.100.23"})
    blocked = client.post("/login", data={"email": STAFF[0], "password": STAFF[1], "csrf_token": token},
                          environ_base=proxy, headers={"X-Forwarded-For": "198.51.100.23"})
    assert blocked.status_code == 429
    # Another client behind the same proxy signs in: the proxy's own address is not what counts.
    other = client.post("/login", data={"email": STAFF[0], "password": STAFF[1], "csrf_token": token},
                        environ_base=proxy, headers={"X-Forwarded-For": "198.51.100.99"})
    assert other.status_code == 303
    # The blocked client cannot slip through by writing another address in front of the proxy's.
    client = app.test_client()
    token = csrf_token(client)
    assert client.post("/login", data={"email": ADMIN[0], "password": ADMIN[1], "csrf_token": token},
                       environ_base=proxy, headers={"X-Forwarded-For": "192.0.2.200, 198.51.100.23"}
                       ).status_code == 429
    with app.app_context():
        from sqlalchemy import select

        from ivr.db import get_session
        from ivr.db.models import StaffAuditEntry

        addresses = set(get_session().scalars(select(StaffAuditEntry.address)))
    assert "198.51.100.23" in addresses and "10.0.0.5" not in addresses


def test_a_post_without_csrf_token_is_refused(staff_client, app):
    response = staff_client.post("/tasks/1/note", data={"note": "forged"})
    assert response.status_code == 400
    assert "Formular ist abgelaufen" in response.get_data(as_text=True)
    assert staff_client.post("/logout").status_code == 400
    assert staff_client.get("/tasks").status_code == 200  # still signed in
    fresh = app.test_client()
    assert fresh.post("/login", data={"email": STAFF[0], "password": STAFF[1]}).status_code == 400


def test_twilio_webhooks_need_no_csrf_token(twilio):
    call = twilio.call("+493023125301")
    assert "Haustelefon" in call.heard_text and call._only("Gather") is not None


def test_staff_may_not_use_admin_pages(staff_client):
    for path in ("/staff", "/flows/upload", "/directory/tenants/1/delete"):
        assert staff_client.get(path).status_code == 403, path
    assert post(staff_client, "/directory/tenants/1/delete").status_code == 403
    assert post(staff_client, "/staff", {"email": "new@talblick.example", "name": "N", "password": "x" * 12}
                ).status_code == 403


def test_session_cookie_is_httponly_lax_and_secure_behind_https(tmp_path, seed, client):
    cookie = login(client).headers.get_all("Set-Cookie")
    session_cookie = next(c for c in cookie if c.startswith("hausruf_session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie and "Secure" not in session_cookie
    https_app = make_app(tmp_path / "https", seed, public_url="https://hotline.example.org")
    https_client = https_app.test_client()
    response = https_client.get("/login", base_url="https://hotline.example.org")
    session_cookie = next(c for c in response.headers.get_all("Set-Cookie") if c.startswith("hausruf_session="))
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie


def test_a_password_change_or_disabling_ends_open_sessions(app, staff_client):
    from ivr.console.accounts import set_active, set_password
    from ivr.db import get_session

    with app.app_context():
        session = get_session()
        set_password(session, STAFF[0], "a-brand-new-password")
        session.commit()
    assert staff_client.get("/tasks").status_code == 303
    login(staff_client, (STAFF[0], "a-brand-new-password"))
    with app.app_context():
        session = get_session()
        set_active(session, STAFF[0], False)
        session.commit()
    assert staff_client.get("/tasks").status_code == 303
    token = csrf_token(staff_client)
    assert staff_client.post("/login", data={"email": STAFF[0], "password": "a-brand-new-password",
                                             "csrf_token": token}).status_code == 401


def test_serve_refuses_to_start_without_a_secret_key(monkeypatch):
    from ivr.web.commands import serve_command

    monkeypatch.delenv("HAUSRUF_SECRET_KEY", raising=False)
    monkeypatch.setenv("HAUSRUF_ENV_FILE", "/nonexistent/.env")
    result = CliRunner().invoke(serve_command, ["--port", "1"])
    assert result.exit_code == 1
    assert "HAUSRUF_SECRET_KEY is not set" in result.output and "make demo" in result.output


def test_every_asset_is_served_by_the_app(admin_client):
    for path in ("/", "/tasks", "/calls", "/directory", "/flows", "/flows/hotline", "/simulator", "/staff", "/login"):
        body = admin_client.get(path).get_data(as_text=True)
        for url in re.findall(r'(?:src|href)="([^"]+)"', body):
            assert not url.startswith(("http:", "https:", "//")), (path, url)
        for url in re.findall(r'(?:src|href)="(/console/static/[^"]+)"', body):
            assert admin_client.get(url).status_code == 200, url


def test_admins_add_and_disable_accounts_in_the_browser_form(app, admin_client):
    from sqlalchemy import select

    from ivr.db import get_session
    from ivr.db.models import StaffAccount, StaffAuditEntry

    short = post(admin_client, "/staff", {"email": "nora@talblick.example", "name": "Nora", "password": "kurz",
                                          "role": "staff"}, form_path="/staff")
    assert short.status_code == 422 and "at least 10 characters" in short.get_data(as_text=True)
    added = post(admin_client, "/staff", {"email": "nora@talblick.example", "name": "Nora", "role": "staff",
                                          "password": "ein-gutes-passwort"}, form_path="/staff")
    assert added.status_code == 303
    with app.app_context():
        nora = get_session().scalar(select(StaffAccount).where(StaffAccount.email == "nora@talblick.example"))
    post(admin_client, f"/staff/{nora.id}/active", {"active": "0"}, form_path="/staff")
    page = admin_client.get("/staff").get_data(as_text=True)
    assert "Konto nora@talblick.example ist jetzt gesperrt." in page
    with app.app_context():
        actions = [(e.actor, e.action) for e in get_session().scalars(select(StaffAuditEntry)
                                                                     .order_by(StaffAuditEntry.id))]
    assert actions[-3:] == [("admin@talblick.example", "login"), ("admin@talblick.example", "staff.add"),
                            ("admin@talblick.example", "staff.disable")]
