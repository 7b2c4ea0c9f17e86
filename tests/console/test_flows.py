"""Flow pages, the flow picture (`hausruf graph`), flow upload through the checker, and the menu card PDF."""

from __future__ import annotations

import html
import io
import re
import shutil

from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import select

from ivr.cli import main
from ivr.db import engine_of, get_session
from ivr.db.models import FlowRevision
from ivr.wiring import hausruf
from tests.conftest import FLOWS_DIR
from tests.console.conftest import csrf_token, make_app

MAIN_MENU = [("1", "Einkauf"), ("2", "Essen"), ("3", "Hausnotruf"), ("4", "Pflege"), ("5", "Technik")]


def test_hausruf_graph_prints_mermaid_with_every_main_menu_option_and_its_key():
    result = CliRunner().invoke(main, ["graph", "hotline"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "flowchart TD" in lines
    menu_id = next(line.split("{{")[0].strip() for line in lines if '"main_menu (Menü)"' in line)
    for key, label in MAIN_MENU:
        assert any(line.strip().startswith(f'{menu_id} -->|"{key}: {label}"|') for line in lines), (key, label)
    assert any('"0: Mensch"' in line for line in lines) and any('"9: Notfall"' in line for line in lines)


def test_hausruf_graph_svg_is_drawn_by_graphviz(tmp_path):
    result = CliRunner().invoke(main, ["graph", "hotline", "--format", "svg", "-o", str(tmp_path / "h.svg")])
    assert result.exit_code == 0, result.output
    svg = (tmp_path / "h.svg").read_text()
    assert svg.startswith("<svg") and "main_menu (Menü)" in svg and "1: Einkauf" in svg
    assert CliRunner().invoke(main, ["graph", "nosuchflow"]).exit_code == 1


def test_hausruf_graph_wohnen_shows_every_ask_option_and_the_match(tmp_path):
    from ivr.flows.model import AskNode, MatchNode

    flow = _load("wohnen")
    result = CliRunner().invoke(main, ["graph", "wohnen"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    ids = {line.split('"')[1].split(" (")[0]: line.strip().split("{{")[0].split("[")[0] for line in lines
           if line.startswith("    n") and '"' in line and "-->" not in line and "-.->" not in line}
    asks = [node for node in flow.nodes.values() if isinstance(node, AskNode)]
    assert len(asks) >= 6
    for node in asks:
        edge = next(line for line in lines if line.strip().startswith(f"{ids[node.id]} -->|")
                    and line.strip().endswith(f"| {ids[node.next]}"))
        shown = edge.split('|"')[1].split('"|')[0].split("<br>")
        for choice in node.options:  # every option with its key, on the way to the next question
            assert any(part.startswith(f"{choice.key}: {choice.label}") for part in shown), (node.id, choice.key)
        if node.number is not None:
            assert shown == [f"Zahl {node.number.low} bis {node.number.high}, dann #"]
        assert f"speichert answers.{node.answer}" in next(line for line in lines if line.strip().startswith(
            f"{ids[node.id]}{{{{"))
    match, = [node for node in flow.nodes.values() if isinstance(node, MatchNode)]
    assert f'{ids[match.id]} -->|"passende gefunden"| {ids[match.found]}' in result.output
    assert f'{ids[match.id]} -->|"nichts passt"| {ids[match.none]}' in result.output
    assert f'-->|"Antwort keep: yes"| {ids["found_menu"]}' in result.output
    # The same in the picture Graphviz draws: each option one line of text.
    assert CliRunner().invoke(main, ["graph", "wohnen", "--format", "svg", "-o", str(tmp_path / "w.svg")]
                              ).exit_code == 0
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", (tmp_path / "w.svg").read_text())]
    for node in asks:
        for choice in node.options:
            assert any(t.startswith(f"{choice.key}: {choice.label}") for t in texts), (node.id, choice.key)
    assert "Zahl 100 bis 5000, dann #" in texts and "nichts passt" in texts


def _load(name: str):
    from ivr.flows.loader import load_flow_file

    return load_flow_file(FLOWS_DIR / f"{name}.yaml")


def _flows_app(tmp_path, seed):
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows, ignore=shutil.ignore_patterns("tests", "prompts"))
    return make_app(tmp_path / "app", seed, flows_dir=flows), flows


def _upload(client, name: str, text: str):
    token = csrf_token(client, "/flows/upload")
    return client.post("/flows/upload", data={"csrf_token": token, "file": (io.BytesIO(text.encode()), name)},
                       content_type="multipart/form-data")


def test_flow_pages_and_upload_through_the_checker(tmp_path, seed):
    app, flows = _flows_app(tmp_path, seed)
    client = app.test_client()
    from tests.console.conftest import ADMIN, login

    login(client, ADMIN)
    listing = client.get("/flows").get_data(as_text=True)
    assert "hotline.yaml" in listing and "hotline.en.yaml" in listing
    page = client.get("/flows/hotline").get_data(as_text=True)
    assert "<svg" in page and "1: Einkauf" in page and "Karte für Mühlenweg (PDF)" in page
    original = (flows / "hotline.yaml").read_text()
    broken = original.replace("kind: menu", "kind: menue", 1)
    response = _upload(client, "hotline.yaml", broken)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    found = re.search(r"hotline\.yaml:(\d+): node &#39;main_menu&#39;: unknown kind &#39;menue&#39;", body)
    node_line = original.splitlines().index("  main_menu:") + 1
    assert found and int(found.group(1)) in (node_line, node_line + 1)  # the node, or its kind: line
    assert (flows / "hotline.yaml").read_text() == original  # nothing written
    edited = original.replace("Das habe ich leider nicht verstanden.", "Das habe ich nicht verstanden.")
    response = _upload(client, "hotline.yaml", edited)
    assert response.status_code == 303
    assert (flows / "hotline.yaml").read_text() == edited
    with app.app_context():
        revisions = get_session().scalars(select(FlowRevision.revision).where(FlowRevision.name == "hotline",
                                                                             FlowRevision.language == "de")).all()
    assert len(revisions) == 2
    current = hausruf(app).flows.current().get("hotline", "de")
    assert current.revision in revisions and "Das habe ich nicht verstanden." in current.text
    # A second file for the same flow and language is refused.
    response = _upload(client, "hotline-copy.yaml", edited)
    assert response.status_code == 422 and "upload it under that file name" in response.get_data(as_text=True)
    assert not (flows / "hotline-copy.yaml").exists()
    engine_of(app).dispose()


def test_flows_show_which_revision_each_server_serves_and_since_when(tmp_path, seed):
    from ivr.flows.flowset import FlowSet, server_name
    from ivr.flows.revisions import RevisionArchive
    from tests.console.conftest import ADMIN, login

    app, flows = _flows_app(tmp_path, seed)
    client = app.test_client()
    login(client, ADMIN)
    first = hausruf(app).flows.current().get("hotline", "de").revision

    def servers() -> list[list[str]]:
        page = client.get("/flows/hotline").get_data(as_text=True)
        table = page.split('id="h-servers"')[1].split("</table>")[0]
        return [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr><td>.*?</tr>", table)]

    this = server_name()
    assert [(row[0], row[1]) for row in servers()] == [(this, f"<code>{first[:12]}</code>")]
    # A second server process on the same database, with its own copy of the flows folder.
    other_folder = tmp_path / "other-flows"
    shutil.copytree(flows, other_folder)
    other = FlowSet(other_folder, RevisionArchive(hausruf(app).sessions, hausruf(app).read_sessions),
                    server="server-b:812")
    other.reload()
    assert {row[0]: row[1] for row in servers()} == {this: f"<code>{first[:12]}</code>",
                                                    "server-b:812": f"<code>{first[:12]}</code>"}
    # An upload on this server: it serves the new revision at once; the other one until it looks again.
    edited = (flows / "hotline.yaml").read_text().replace("Das habe ich leider nicht verstanden.", "Wie bitte?")
    assert _upload(client, "hotline.yaml", edited).status_code == 303
    second = hausruf(app).flows.current().get("hotline", "de").revision
    shown = {row[0]: row for row in servers()}
    assert shown[this][1] == f"<code>{second[:12]}</code>"
    assert shown["server-b:812"][1] == f"<code>{first[:12]}</code> <strong>(andere Fassung)</strong>"
    other.sync()  # the other server sees the newer revision in the database and serves it
    shown = {row[0]: row for row in servers()}
    assert shown["server-b:812"][1] == f"<code>{second[:12]}</code>"
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", shown["server-b:812"][2])  # loaded at, local time
    listing = client.get("/flows").get_data(as_text=True)
    assert f"server-b:812: <code>{second[:12]}</code>, seit" in listing and "geladen am" in listing
    page = client.get("/flows/hotline").get_data(as_text=True)
    assert "Zuletzt geladen" in page and "Zuerst gesehen" in page
    engine_of(app).dispose()


def _pdf(data: bytes) -> tuple[str, set[float]]:
    """The PDF's text and every font size used."""
    sizes: set[float] = set()
    reader = PdfReader(io.BytesIO(data))
    text = ""
    for page in reader.pages:
        text += page.extract_text(visitor_text=lambda t, cm, tm, font, size: sizes.add(round(size * tm[0], 1))
                                  if t.strip() else None)
    return text, sizes


def test_menu_card_lists_only_the_services_of_the_house(staff_client):
    response = staff_client.get("/flows/hotline/card?house=muehlenweg")
    assert response.mimetype == "application/pdf"
    netphen, sizes = _pdf(response.data)
    assert len(PdfReader(io.BytesIO(response.data)).pages) == 1
    assert "Mühlenweg" in netphen and "Netphen" in netphen
    # Each key in the words the menu announces it with (the flow's own plain words).
    for words in ("1\nEinkauf", "3\nHausnotruf", "4\nPflege", "5\nTechnik", "0\nMensch", "9\nNotfall"):
        assert words in netphen.replace(" \n", "\n"), words
    assert "Essen" not in netphen  # Netphen has no meal service
    assert "Daniel Sommer" in netphen and "Anja Winter" in netphen  # the house's IT helpers
    assert "02715 0199999" in netphen.replace("\n", " ") or "0271 50199999" in netphen  # the hotline number
    assert min(sizes) >= 16, sizes
    siegen, _ = _pdf(staff_client.get("/flows/hotline/card?house=lindenhof").data)
    for words in ("1\nEinkauf", "2\nEssen", "3\nHausnotruf", "4\nPflege", "5\nTechnik", "0\nMensch", "9\nNotfall"):
        assert words in siegen.replace(" \n", "\n"), words
    assert "Jonas Brandt" in siegen and "Petra Wolf" in siegen
    assert staff_client.get("/flows/hotline/card?house=nowhere").status_code == 404


def test_hausruf_card_writes_the_pdf(tmp_path, seed, monkeypatch):
    shutil.copyfile(seed, tmp_path / "db.sqlite3")
    monkeypatch.setenv("HAUSRUF_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.setenv("HAUSRUF_PHONE_NUMBER", "+4927150199999")
    result = CliRunner().invoke(main, ["card", "muehlenweg", "-o", str(tmp_path / "card.pdf")])
    assert result.exit_code == 0, result.output
    text, _ = _pdf((tmp_path / "card.pdf").read_bytes())
    assert "Mühlenweg" in text and "Essen" not in text and "Einkauf" in text
    result = CliRunner().invoke(main, ["card", "atlantis", "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1 and "there is no house 'atlantis'; known houses: am-hang" in result.output
