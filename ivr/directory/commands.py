"""Directory commands (filled in below as the directory grows)."""


def register(group) -> None:
    """Add directory commands to the hausruf group."""
