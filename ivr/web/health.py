"""GET /healthz: is the database reachable and is a flow loaded? 200 when both, else 503."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Liveness and readiness in one: what an operator's monitor or a load balancer asks."""
    from ivr.db import engine_of

    report = {"status": "ok"}
    try:
        with engine_of(current_app).connect() as connection:
            connection.execute(text("SELECT 1"))
        report["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - report, never raise, from a health check
        report["database"] = f"error: {type(exc).__name__}"
        report["status"] = "degraded"
    flowset = current_app.extensions["hausruf.flows"].current()
    report["flows"] = [flow.key for flow in flowset.flows()]
    report["flow_errors"] = sum(1 for p in flowset.problems if p.severity == "error")
    if not report["flows"]:
        report["status"] = "degraded"
    from ivr.telephony.sip.status import sip_health

    report["sip"], sip_ok = sip_health(current_app.config["HAUSRUF"].data_dir)  # None: no SIP line here
    if not sip_ok:
        report["status"] = "degraded"
    return jsonify(report), (200 if report["status"] == "ok" else 503)
