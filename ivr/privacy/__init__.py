"""Privacy and data safety: masked logs, private files, keyed prompt URLs, retention, access and erasure by number."""

from __future__ import annotations


def init_app(app) -> None:
    """Mask phone numbers in every log, keep new files private and tighten those made before."""
    from ivr.privacy import files, logmask

    logmask.install()
    files.restrict_new_files()
    files.tighten(app.config["HAUSRUF"])
