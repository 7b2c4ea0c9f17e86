"""GET /healthz: is the database reachable and is a flow loaded? 200 when both, else 503."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Liveness and readiness in one: what an operator's monitor or a load balancer asks."""
    from ivr.db import check_database

    report = {"status": "ok", "database": check_database(current_app)}
    if report["database"] != "ok":
        report["status"] = "degraded"
    from ivr.wiring import hausruf

    flowset = hausruf(current_app).flows.current()
    report["flows"] = [flow.key for flow in flowset.flows()]
    report["flow_errors"] = sum(1 for p in flowset.problems if p.severity == "error")
    if not report["flows"]:
        report["status"] = "degraded"
    return jsonify(report), (200 if report["status"] == "ok" else 503)
