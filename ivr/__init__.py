"""Hausruf: the phone hotline for older tenants of housing cooperatives.

Importing `ivr` (or the pure `ivr.engine`) loads no web framework; create_app imports Flask on use.
"""

from __future__ import annotations


def create_app(test_config: dict | None = None):
    """Build the web app (see ivr.app.create_app)."""
    from ivr.app import create_app as build

    return build(test_config)
