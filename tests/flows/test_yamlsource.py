"""The middle layer: YAML text to plain data with lines, and the cursor's naming of places."""

from __future__ import annotations

from ivr.flows.yamlsource import Collector, Cursor, parse_yaml

TEXT = """\
# a comment
nodes:
  menu:
    kind: menu
    options:
      - key: "1"
        keywords: [eins, zwei]
      - {key: "2"}
"""


def test_data_is_plain_and_every_key_and_item_has_its_line():
    document, problems = parse_yaml(TEXT, "x.yaml")
    assert problems == []
    assert document.data == {
        "nodes": {"menu": {"kind": "menu", "options": [{"key": "1", "keywords": ["eins", "zwei"]}, {"key": "2"}]}}
    }
    assert type(document.data["nodes"]) is dict
    assert document.line(("nodes",)) == 2
    assert document.line(("nodes", "menu", "kind")) == 4
    assert document.line(("nodes", "menu", "options", 1)) == 8
    assert document.line(("nodes", "menu", "options", 0, "keywords", 1)) == 7


def test_a_missing_key_resolves_to_the_nearest_place_with_a_line():
    document, _ = parse_yaml(TEXT, "x.yaml")
    assert document.line(("nodes", "menu", "options", 1, "goto")) == 8
    assert document.line(("nodes", "other", "next")) == 2
    assert document.line(()) == 1


def test_cursor_names_the_node_and_key_path():
    document, _ = parse_yaml(TEXT, "x.yaml")
    collector = Collector()
    cursor = Cursor(document, (), collector) / "nodes" / "menu" / "options" / 1 / "key"
    assert cursor.subject == "node 'menu' options[1].key"
    assert cursor.value == "2"
    cursor.warn("a warning")
    (Cursor(document, ("globals",), collector) / "person").error("an error", key="goto")
    assert [str(p) for p in collector.problems] == [
        "x.yaml:8: warning: node 'menu' options[1].key: a warning",
        "x.yaml:1: globals.person: an error",
    ]
    assert collector.has_errors


def test_yaml_1_2_keeps_no_and_on_as_text():
    document, _ = parse_yaml("keywords: [no, on, yes]\n", "x.yaml")
    assert document.data == {"keywords": ["no", "on", "yes"]}
