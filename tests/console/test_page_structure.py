"""Every console page has a <title> that names it, one <h1>, headings without skipped levels, and every form
field a label (WCAG 2.4.2 page titled, 1.3.1 info and relationships, 4.1.2 name): checked over HTTP for every
GET route (signed in as an admin, with a task and a call so those pages have content), in German and English."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.console.conftest import ADMIN, login
from tests.console.test_access import console_routes

ERIKA = "+493023125301"
# Pages that answer a download, a picture or a redirect rather than a page.
NOT_PAGES = {"console.directory_csv", "console.housing_csv", "console.flow_card", "console.flow_svg",
             "console.flow_mermaid", "console.task_recording", "console.language"}


class Outline(HTMLParser):
    """The page's title, headings, form fields and the labels that name them."""

    def __init__(self):
        super().__init__()
        self.title = ""
        self.headings: list[tuple[int, str]] = []
        self.fields: list[dict] = []
        self.label_for: set[str] = set()
        self._in: list[str] = []
        self._text: list[str] = []
        self._label_depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "title" or re.fullmatch(r"h[1-6]", tag):
            self._in.append(tag)
            self._text = []
        if tag == "label":
            self._label_depth += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit", "button"):
            self.fields.append({**attrs, "_tag": tag, "_wrapped": self._label_depth > 0})

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_depth -= 1
        if self._in and self._in[-1] == tag:
            self._in.pop()
            text = " ".join("".join(self._text).split())
            if tag == "title":
                self.title = self.title or text  # the page's; an inline SVG has titles of its own
            else:
                self.headings.append((int(tag[1]), text))

    def handle_data(self, data):
        if self._in:
            self._text.append(data)


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def check_page(path: str, html: str) -> None:
    page = outline(html)
    name, _, site = page.title.rpartition(" – ")
    assert site == "Hausruf" and name.strip(), (path, page.title)
    h1 = [text for level, text in page.headings if level == 1]
    assert len(h1) == 1 and h1[0], (path, page.headings)
    assert h1[0].startswith(name) or name.startswith(h1[0].split(":")[0]), (path, name, h1[0])
    levels = [level for level, _ in page.headings]
    assert levels[0] == 1, (path, levels)
    for before, after in zip(levels, levels[1:]):
        assert after <= before + 1, (path, "a heading level is skipped", page.headings)
    for field in page.fields:
        labelled = (field.get("id") in page.label_for or field["_wrapped"] or field.get("aria-label")
                    or field.get("aria-labelledby"))
        assert labelled, (path, "form field without a label", field)


@pytest.fixture
def busy_app(app):
    """The app with a task and a call, so /tasks/1 and /calls/1 show something."""
    from tests.support.call_simulator import CallSimulator
    from tests.twilio.conftest import AUTH_TOKEN, HOTLINE

    call = CallSimulator(app.test_client(), "http://hotline.example.org", AUTH_TOKEN, to_number=HOTLINE).call(ERIKA)
    call.press("5")
    return app


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_page_has_a_title_one_h1_ordered_headings_and_labelled_fields(busy_app, lang):
    client = busy_app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    if lang == "en":
        client.get("/sprache/en")
        login_page = client.get("/login").get_data(as_text=True)
    check_page("/login", login_page)
    assert outline(login_page).title == ("Anmelden – Hausruf" if lang == "de" else "Sign in – Hausruf")
    login(client, ADMIN)
    checked = 0
    for endpoint, method, path in console_routes(busy_app):
        if method != "GET" or endpoint in NOT_PAGES:
            continue
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        check_page(path, response.get_data(as_text=True))
        checked += 1
    assert checked >= 15
    # Error pages too.
    check_page("/gibt-es-nicht", client.get("/tasks/999999").get_data(as_text=True))
