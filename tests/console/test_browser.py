"""The console in a real browser: Debian's chromium driven by Playwright, against `hausruf serve`.

One server and one browser for the module (each starts in seconds); each test gets a fresh page.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support.console_site import ADMIN, STAFF, ConsoleSite, launch_chromium

ERIKA = "+493023125301"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = ConsoleSite(tmp_path_factory.mktemp("console-site")).start()
    yield site
    site.stop()


@pytest.fixture(scope="module")
def browser(site):  # closed before the server stops, so no kept-alive connection holds gunicorn's shutdown
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def sign_in(page, site, account=STAFF):
    page.goto(site.url + "/login")
    page.get_by_label("E-Mail-Adresse").fill(account[0])
    page.get_by_label("Passwort").fill(account[1])
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()


def test_login_by_keyboard_wrong_password_and_logout(page, site):
    page.goto(site.url + "/tasks")
    expect(page).to_have_url(re.compile(r"/login\?next=/tasks$"))
    expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    page.get_by_label("E-Mail-Adresse").fill(STAFF[0])
    page.get_by_label("Passwort").fill("falsch-falsch-falsch")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("E-Mail-Adresse oder Passwort stimmt nicht.")
    # Keyboard only: the e-mail field has focus, Tab reaches the password, Enter signs in.
    page.goto(site.url + "/login?next=/tasks")
    expect(page.get_by_label("E-Mail-Adresse")).to_be_focused()  # autofocus; typing before it loses letters
    page.keyboard.type(STAFF[0])
    page.keyboard.press("Tab")
    page.keyboard.type(STAFF[1])
    page.keyboard.press("Enter")
    expect(page).to_have_url(site.url + "/tasks")
    expect(page.get_by_role("heading", name="Aufgaben")).to_be_visible()
    page.get_by_role("button", name="Abmelden").click()
    expect(page.get_by_text("Sie sind abgemeldet.")).to_be_visible()
    page.goto(site.url + "/calls")
    expect(page).to_have_url(re.compile(r"/login\?next=/calls$"))


def test_a_task_from_a_signed_call_appears_and_is_marked_done(page, site):
    call = site.twilio.call(ERIKA)
    call.press("5")
    sign_in(page, site)
    page.get_by_role("link", name="Aufgaben", exact=True).click()
    row = page.get_by_role("row").filter(has_text="Frau Becker")
    expect(row).to_contain_text("Hilfe mit Telefon, Computer oder Haus-Chat")
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("angeboten")
    page.get_by_label("Bemerkung (freiwillig)").fill("am Telefon geholfen")
    page.get_by_role("button", name="Als erledigt markieren").click()
    expect(page.get_by_role("status")).to_contain_text("ist jetzt: erledigt")
    expect(page.locator(".timeline")).to_contain_text("angeboten → erledigt")
    expect(page.locator(".timeline")).to_contain_text("am Telefon geholfen")


def test_directory_upload_with_a_bad_row_shows_file_and_line_and_changes_nothing(page, site):
    sign_in(page, site)
    page.goto(site.url + "/directory?kind=tenants")
    count = page.locator("table.list tbody tr").count()
    page.get_by_role("link", name="Dateien hochladen").click()
    page.get_by_label("Dateien (mehrere möglich)").set_input_files([{
        "name": "tenants.csv", "mimeType": "text/csv",
        "buffer": "first_name;last_name;house;phones\nRosa;Neumann;birkenweg;0271 5551234\n"
                  "Otto;Ohnehaus;gibtsnicht;0271 5559876\n".encode()}])
    page.get_by_role("button", name="Prüfen und speichern").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Nichts wurde gespeichert")
    expect(alert).to_contain_text("tenants.csv:3: unknown house 'gibtsnicht'")
    page.goto(site.url + "/directory?kind=tenants")
    expect(page.locator("table.list tbody tr")).to_have_count(count)
    expect(page.get_by_text("Rosa Neumann")).to_have_count(0)


def test_housing_projects_page_and_a_bad_projects_file(page, site):
    sign_in(page, site)
    page.get_by_role("link", name="Wohnprojekte", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wohnprojekte")
    row = page.get_by_role("row").filter(has_text="Genossenschaftshaus Talblick-Hof")
    expect(row).to_contain_text("offen")  # its waiting list; no flat is free
    expect(row.get_by_role("cell").nth(5)).to_have_text("0")
    page.get_by_role("link", name="Projekt-Datei hochladen").click()
    page.get_by_label("Projekt-Datei (.csv oder .yaml)").set_input_files([{
        "name": "projects.csv", "mimeType": "text/csv",
        "buffer": "id;name;town;region;contact_phone;kinds;rent_band;phone_text;sms_text\n"
                  "neu;Neues Haus;Siegen;siegen;0271 5551234;seniors;billig;Hallo.;Hallo.\n".encode()}])
    page.get_by_role("button", name="Prüfen und speichern").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Nichts wurde gespeichert")
    expect(alert).to_contain_text("projects.csv:2: field 'rent_band': unknown rent band 'billig'")
    page.get_by_role("link", name="Wohnprojekte", exact=True).click()
    expect(page.get_by_text("Neues Haus")).to_have_count(0)
    page.get_by_role("link", name="Bericht: wonach Anrufer fragen").click()
    expect(page.get_by_label("Monat")).to_be_visible()


def test_the_flow_picture_shows_the_main_menu_options(page, site):
    sign_in(page, site)
    page.get_by_role("link", name="Abläufe", exact=True).click()
    page.get_by_role("link", name="hotline").first.click()
    picture = page.locator("figure.graph svg")
    expect(picture).to_be_visible()
    for label in ("1: Einkauf", "2: Essen", "3: Hausnotruf", "4: Pflege", "5: Technik", "0: Mensch", "9: Notfall"):
        expect(picture.locator("text", has_text=label)).to_have_count(1)


def test_the_simulator_plays_a_whole_call_to_a_booked_callback(page, site):
    sign_in(page, site)
    page.get_by_role("link", name="Anruf ausprobieren").click()
    page.get_by_label("Wer ruft an?").select_option(ERIKA)
    page.get_by_label("Uhrzeit").fill("10:00")
    page.get_by_role("button", name="Anruf starten").click()
    transcript = page.locator("#transcript")
    expect(transcript).to_contain_text("Guten Tag, Frau Becker.")
    page.get_by_role("button", name="Taste 5").click()
    expect(transcript).to_contain_text("Rückruf für die IT-Helfer des Hauses")
    expect(transcript).to_contain_text("Im Simulator wird nichts gebucht")
    page.get_by_label("Was sagt der Anrufer auf die Nachricht?").fill("Mein Tablet geht nicht")
    page.get_by_role("button", name="Nachricht beenden").click()
    expect(transcript).to_contain_text("Auf Wiederhören.")
    expect(page.get_by_role("status")).to_have_text("Der Anruf ist beendet.")
    # Nothing was booked: the task list knows no simulated call.
    page.goto(site.url + "/tasks?q=Tablet")
    expect(page.get_by_text("Keine Aufgaben mit diesen Filtern.")).to_be_visible()


def test_pages_reflow_at_200_percent_zoom_and_english_works(browser, site):
    # 200 % zoom of a 1280 px window is a 640 px wide layout viewport.
    context = browser.new_context(viewport={"width": 640, "height": 400}, device_scale_factor=2, locale="de-DE")
    page = context.new_page()
    sign_in(page, site, ADMIN)
    for path in ("/", "/tasks", "/calls", "/directory", "/directory/tenants/1/edit", "/flows", "/flows/hotline",
                 "/simulator", "/staff", "/housing", "/housing/report", "/housing/projects/talblick-hof"):
        page.goto(site.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (path, overflow)
    page.goto(site.url + "/tasks")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tasks")
    expect(page.get_by_role("link", name="Directory")).to_be_visible()
    context.close()


# Run in the page: what a screen reader or a keyboard user would miss (no axe-core: nothing is downloaded).
A11Y_CHECK = """() => {
  const problems = [];
  const describe = el => el.outerHTML.slice(0, 120);
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    const named = el.labels.length > 0 || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!named) problems.push('field without a label: ' + describe(el));
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push('image without alt text: ' + describe(img));
  }
  for (const svg of document.querySelectorAll('svg')) {
    const labelled = svg.closest('[aria-labelledby], [aria-label], [aria-hidden="true"]');
    if (!labelled) problems.push('picture without a name: ' + describe(svg));
  }
  // Contrast of every piece of text against the background it sits on (WCAG 1.4.3: 4.5, large text 3).
  const rgb = text => (text.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const c = [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = el => {
    for (let node = el; node; node = node.parentElement) {
      const color = rgb(getComputedStyle(node).backgroundColor);
      if (color.length === 3 || (color.length === 4 && color[3] > 0.5)) return color.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || seen.has(el) || el.closest('svg, option, .skip')) continue;
    seen.add(el);
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none' || el.getClientRects().length === 0) continue;
    const fg = luminance(rgb(style.color)), bg = luminance(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const needed = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    if (ratio < needed) problems.push(`contrast ${ratio.toFixed(2)} < ${needed}: ${describe(el)}`);
  }
  return problems;
}"""

FOCUS_CHECK = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outlined = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  // The outline against the page around it: 3:1 at least (WCAG 1.4.11, non-text contrast).
  const rgb = text => (text.match(/[\\d.]+/g) || []).map(Number).slice(0, 3);
  const luminance = ([r, g, b]) => {
    const c = [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  let around = [255, 255, 255];
  for (let node = el.parentElement; node; node = node.parentElement) {
    const color = (getComputedStyle(node).backgroundColor.match(/[\\d.]+/g) || []).map(Number);
    if (color.length === 3 || (color.length === 4 && color[3] > 0.5)) { around = color.slice(0, 3); break; }
  }
  const a = luminance(rgb(style.outlineColor)), b = luminance(around);
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  return outlined && ratio >= 3 ? '' : `${el.outerHTML.slice(0, 100)} (outline ${style.outlineWidth} ${style.outlineColor}, contrast ${ratio.toFixed(2)})`;
}"""

A11Y_PAGES = ("/", "/tasks", "/tasks/1", "/calls", "/directory", "/directory/tenants/1", "/directory/tenants/1/edit",
              "/directory/upload", "/flows", "/flows/hotline", "/flows/upload", "/simulator", "/staff", "/housing",
              "/housing/projects/talblick-hof", "/housing/upload", "/housing/report")


def test_labels_alt_texts_contrast_and_visible_focus_on_every_page(browser, site):
    site.twilio.call(ERIKA).press("5")  # a task and a call, so their pages have content
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE")
    page = context.new_page()
    page.goto(site.url + "/login")
    pages = {"/login": page.evaluate(A11Y_CHECK)}
    sign_in(page, site, ADMIN)
    for path in A11Y_PAGES:
        page.goto(site.url + path)
        pages[path] = page.evaluate(A11Y_CHECK)
    assert {path: problems for path, problems in pages.items() if problems} == {}
    # Every place the keyboard reaches shows where it is (a 3 px outline), through the whole page.
    for path in ("/", "/tasks/1", "/directory/tenants/1/edit", "/flows/hotline", "/simulator", "/housing"):
        page.goto(site.url + path)
        unseen = set()
        for _ in range(60):
            page.keyboard.press("Tab")
            found = page.evaluate(FOCUS_CHECK)
            if found is None:
                break  # back at the start of the page
            if found:
                unseen.add(found)
        assert unseen == set(), (path, unseen)
    context.close()
