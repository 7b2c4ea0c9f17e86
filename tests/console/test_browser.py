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
