"""`hausruf prompts ...`: render and list prompt audio; thin wrappers over speech.prompts."""

from __future__ import annotations

import click

from speech.flowtexts import collect_prompt_texts, is_template, prompt_segments
from speech.prompts import PromptRenderer, list_prompts


def _load(settings):
    """The current flows and a renderer, both from the settings."""
    from ivr.flows.flowset import FlowSet

    flows = FlowSet.load(settings.flows_dir).flows()
    renderer = PromptRenderer(settings.prompts_dir, overrides_dir=settings.flows_dir / "prompts")
    return flows, renderer


def build_prompts(flows, renderer: PromptRenderer) -> tuple[int, int, int]:
    """Render every fixed prompt segment; returns (rendered, cached, templated segments skipped)."""
    templated = len({pair for pair in prompt_segments(flows) if is_template(pair[0])})
    rendered, cached = renderer.render_all(collect_prompt_texts(flows))
    return rendered, cached, templated


def register(group: click.Group) -> None:
    """Add the `prompts` commands to the hausruf CLI."""

    @group.group("prompts", help="Prompt audio: pre-render flow prompts, list recording overrides.")
    def prompts() -> None:
        """Prompt audio commands."""

    @prompts.command("build", help="Render every prompt of every flow to 8 kHz audio (cached ones are kept).")
    def build() -> None:
        from ivr.config import Settings

        flows, renderer = _load(Settings.from_env())
        rendered, cached, templated = build_prompts(flows, renderer)
        click.echo(f"{rendered} rendered, {cached} already cached, in {renderer.cache_dir}")
        if templated:
            click.echo(f"{templated} templated segments (with caller data) render on first use during calls")

    @prompts.command("list", help="Show each prompt with the file a recording of it must have (and a .txt with its words).")
    def list_() -> None:
        from ivr.config import Settings

        flows, renderer = _load(Settings.from_env())
        for audio, recorded, prompt in list_prompts(renderer.overrides_dir, flows):
            mark = "recorded" if recorded else "synthetic"
            click.echo(f"{audio}\t{mark}\t{prompt.text}")
