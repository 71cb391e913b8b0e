"""Security headers on every answer, private answers never stored, and pages that run no inline code.

Every GET route of the app is visited (anonymous, as admin and as officer), so a new page is
checked without anyone adding it here.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_admin_pages import csrf_token, log_in

from server import security
from server.ticket_links import ticket_token

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "server" / "static"
SAME_FOR_ALL = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}
# Pages whose forms post back: their Referer goes to this server only (Flask-WTF wants it on HTTPS).
STAFF_PAGES = ("/admin", "/console", "/login", "/logout", "/setup")


@pytest.fixture
def ticket(hub) -> dict:
    return hub.issue("ktp")["result"]["ticket"]


def get_urls(app, ticket: dict) -> list[str]:
    """One URL for every GET route, its parts filled with things that exist in the test hall."""
    token = ticket_token(app.secret_key, ticket["id"])
    fill = {"code": "ktp", "number": "1", "user_id": "1", "name": "lobby-1", "kiosk_id": "layar",
            "day": ticket["day"], "token": token, "key": "0" * 16, "ext": "mp3",
            "filename": "tv.js"}  # fmt: skip
    urls = ["/admin/agencies/dukcapil", "/admin/displays/new", "/nowhere", "/static/nowhere.js"]
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        values = (
            {**fill, "number": ticket["number"]} if rule.endpoint.startswith("visitor.") else fill
        )
        urls.append(
            re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m, v=values: v[m.group(1)], rule.rule)
        )
    return sorted(set(urls))


USERS = {"admin": ("admin", "admin-secret"), "officer": ("petugas1", "petugas-secret")}


def client_as(app, who: str):
    """A fresh test client, logged in as `who` (or not at all)."""
    client = app.test_client()
    if who in USERS:
        log_in(client, *USERS[who])
    return client


def csp_directives(value: str) -> dict[str, list[str]]:
    parts = (d.strip().split() for d in value.split(";") if d.strip())
    return {p[0]: p[1:] for p in parts}


def check_headers(response, url: str, who: str = "") -> list[str]:
    where = f"{who} GET {url} ({response.status_code})"
    problems = []
    csp = response.headers.get("Content-Security-Policy")
    if not csp:
        return [f"{where}: no Content-Security-Policy"]
    directives = csp_directives(csp)
    scripts = directives.get("script-src", directives.get("default-src"))
    if scripts is None or not set(scripts) <= {"'self'", "'none'"}:
        problems.append(f"{where}: scripts from {scripts}")
    styles = directives.get("style-src", directives.get("default-src"))
    if "'unsafe-inline'" in styles and response.mimetype == "text/html":
        problems.append(f"{where}: inline style allowed on a page")
    if response.mimetype == "text/html" and directives.get("frame-ancestors") != ["'none'"]:
        problems.append(f"{where}: may be framed")
    for name, value in SAME_FOR_ALL.items():
        if response.headers.get(name) != value:
            problems.append(f"{where}: {name} is {response.headers.get(name)!r}")
    staff = url.startswith(STAFF_PAGES) or url == "/"
    wanted = "same-origin" if staff else "no-referrer"
    if response.headers.get("Referrer-Policy") != wanted:
        problems.append(f"{where}: Referrer-Policy is {response.headers.get('Referrer-Policy')!r}")
    return problems


@pytest.mark.parametrize("who", ["anonymous", "admin", "officer"])
def test_every_answer_has_the_security_headers(app, ticket, who):
    client = client_as(app, who)
    problems, statuses = [], set()
    for url in get_urls(app, ticket):
        response = client.get(url)
        statuses.add(response.status_code)
        problems += check_headers(response, url, who)
    assert problems == []
    assert {200, 302, 404} <= statuses  # pages, redirects to the login and errors all checked


def test_the_policy_itself():
    directives = csp_directives(security.CONTENT_SECURITY_POLICY)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"] and directives["form-action"] == ["'self'"]


def test_tokened_pages_send_no_referer_and_staff_forms_work_over_https(app, client, ticket):
    """no-referrer where a visitor link is; same-origin where forms post (Flask-WTF checks the
    Referer of every HTTPS form POST, so staff pages must send it to this server)."""
    token = ticket_token(app.secret_key, ticket["id"])
    for url in (f"/t/{ticket['day']}/{ticket['number']}/{token}", "/tv", "/kiosk/layar"):
        assert client.get(url).headers["Referrer-Policy"] == "no-referrer", url
    https = "https://192.168.1.10"
    login = client.get("/login", base_url=https)
    assert login.headers["Referrer-Policy"] == "same-origin"
    token_field = re.search(r'name="csrf-token" content="([^"]+)"', login.get_data(as_text=True))
    form = {"username": "admin", "password": "admin-secret", "csrf_token": token_field.group(1)}
    refused = client.post("/login", base_url=https, data=form)  # what no-referrer would make of it
    assert refused.status_code == 400
    sent = client.post("/login", base_url=https, data=form, headers={"Referer": https + "/login"})
    assert sent.status_code == 302


def test_websocket_origin_is_named_for_older_browsers(client):
    csp = client.get("/tv", headers={"Host": "192.168.1.10:5000"}).headers[
        "Content-Security-Policy"
    ]
    assert csp_directives(csp)["connect-src"] == [
        "'self'", "ws://192.168.1.10:5000", "wss://192.168.1.10:5000"]  # fmt: skip
    odd = client.get("/tv", headers={"Host": "evil.example'; script-src *"})
    assert csp_directives(odd.headers["Content-Security-Policy"])["connect-src"] == ["'self'"]
    assert csp_directives(odd.headers["Content-Security-Policy"])["script-src"] == ["'self'"]


# --- no-store ----------------------------------------------------------------------------------


def is_no_store(response) -> bool:
    return "no-store" in response.headers.get("Cache-Control", "")


def test_admin_console_and_login_answers_are_never_stored(app, client, ticket):
    urls = [
        u for u in get_urls(app, ticket) if u.startswith(("/admin", "/console", "/login", "/setup"))
    ]
    assert len(urls) > 15
    anonymous = [u for u in urls if not is_no_store(client.get(u))]
    log_in(client, "admin", "admin-secret")
    as_admin = [u for u in urls if not is_no_store(client.get(u))]
    assert (anonymous, as_admin) == ([], [])
    counter_page = client.get("/admin/counters/1")
    assert "token-counter-1" in counter_page.get_data(as_text=True) and is_no_store(counter_page)
    logged_out = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert logged_out.status_code == 302 and is_no_store(logged_out)


def test_tokened_visitor_answers_are_never_stored(client, ticket):
    token = ticket_token(client.application.secret_key, ticket["id"])
    base = f"/t/{ticket['day']}/{ticket['number']}"
    for url in (f"{base}/{token}", f"{base}/{token}/status", f"{base}/wrong-token-000000"):
        assert is_no_store(client.get(url)), url
    issued = client.post("/api/tickets", json={"service": "ktp"})
    kiosk = client.post("/api/kiosk/layar/tickets", json={"service": "ktp"})
    assert issued.status_code == kiosk.status_code == 201
    assert is_no_store(issued) and is_no_store(kiosk)


PUBLIC = ["/tv", "/kiosk/layar", "/static/tv.js", "/api/audio/chime.wav", "/api/snapshot", "/"]


@pytest.mark.parametrize("url", [*PUBLIC, "/favicon.ico"])
def test_public_answers_stay_cacheable(client, ticket, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert not is_no_store(response)


def test_audio_keeps_its_cache_headers_and_plays_under_the_policy(client):
    chime = client.get("/api/audio/chime.wav")
    assert chime.status_code == 200 and chime.mimetype == "audio/wav"
    assert "max-age=86400" in chime.headers["Cache-Control"]
    assert csp_directives(chime.headers["Content-Security-Policy"])["media-src"] == ["'self'"]


def test_the_favicon_is_served_cacheable_and_linked_from_the_pages(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon"
    assert icon.data == (STATIC / "favicon.ico").read_bytes() and icon.data[:4] == b"\0\0\1\0"
    assert "max-age=86400" in icon.headers["Cache-Control"]
    assert check_headers(icon, "/favicon.ico") == []
    again = client.get("/favicon.ico", headers={"If-None-Match": icon.headers["ETag"]})
    assert again.status_code == 304
    for page in ("/", "/login", "/kiosk/layar", "/nowhere"):
        assert '<link rel="icon" href="/favicon.ico"' in client.get(page).get_data(as_text=True)


def test_bare_number_is_as_public_as_the_tv(client, ticket):
    bare = client.get(f"/t/{ticket['day']}/{ticket['number']}")
    assert bare.status_code == 200 and not is_no_store(bare)


# --- pages run no inline code --------------------------------------------------------------------


class InlineCode(HTMLParser):
    """Collects what a strict policy would block: inline script, handlers, javascript: URLs, style."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False
        self._script_src: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name == "style":
                self.problems.append(f"<{tag} style=...>")
            if (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value}>")
        if tag == "style":
            self.problems.append("<style> block")
        if tag == "script":
            self._in_script = True
            self._script_src = attrs.get("src")
            if not self._script_src and attrs.get("type") != "application/json":
                self.problems.append(f"<script {attrs}> runs inline code")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and self._script_src and data.strip():
            self.problems.append("a <script src> with code inside")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.problems


@pytest.mark.parametrize(
    ("html", "found"),
    [
        ("<script>alert(1)</script>", 1),
        ('<script type="application/json">{"a": 1}</script>', 0),
        ('<script src="/static/tv.js"></script>', 0),
        ('<form onsubmit="return confirm(1)">', 1),
        ('<a href="javascript:void(0)">', 1),
        ('<p style="color: red">', 1),
        ("<style>p { color: red }</style>", 1),
        ('<form data-confirm="Hapus?">', 0),
    ],
)
def test_the_inline_code_check_itself(html, found):
    assert len(inline_code(html)) == found


def test_no_page_has_inline_code(app, ticket):
    hub = app.extensions["panggil"]
    hub.command(1, "call_next", {}, "c1")  # a called ticket, for the visitor page
    pages = {}
    for who in ("anonymous", "officer", "admin"):
        client = client_as(app, who)
        for url in get_urls(app, ticket):
            response = client.get(url)
            if response.mimetype == "text/html":
                pages[f"{who} {url} ({response.status_code})"] = response.get_data(as_text=True)
    assert sum(1 for page in pages if "(200)" in page) > 25
    problems = {page: inline_code(html) for page, html in pages.items() if inline_code(html)}
    assert problems == {}


def test_no_template_has_inline_code():
    """The templates themselves: branches the pages above did not take (a form shown only
    for an unused agency) are checked too."""
    templates = sorted((ROOT / "server" / "templates").rglob("*.html"))
    assert len(templates) > 20
    problems = {
        str(path.relative_to(ROOT)): inline_code(path.read_text(encoding="utf-8"))
        for path in templates
    }
    assert {path: found for path, found in problems.items() if found} == {}


# --- page scripts never insert markup -------------------------------------------------------------

MARKUP_SINKS = re.compile(r"\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write(ln)?)\b")


def page_scripts() -> list[Path]:
    return sorted(STATIC.glob("*.js"))  # vendor/ is a folder of its own: not ours


def test_page_scripts_never_insert_markup():
    scripts = page_scripts()
    assert {p.name for p in scripts} >= {
        "admin.js",
        "console.js",
        "kiosk.js",
        "tv.js",
        "visitor.js",
    }
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in scripts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if MARKUP_SINKS.search(line)
    ]
    assert found == []


@pytest.mark.parametrize(
    "line",
    [
        "box.innerHTML = text;",
        'node.outerHTML = "<b>"',
        "el.insertAdjacentHTML('beforeend', x)",
        "document.write(x)",
        "document.writeln(x)",
    ],
)
def test_the_markup_sink_check_itself(line):
    assert MARKUP_SINKS.search(line)
