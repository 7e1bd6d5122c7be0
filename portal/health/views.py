"""Liveness and readiness probes for load balancers, and Prometheus metrics for operators."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask_login import current_user
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from portal.core.metrics import BacklogCollector
from portal.extensions import csrf, db, limiter
from portal.jobs import job_queue
from portal.services import deliveries
from portal.web import metrics_exposition
from portal.web.access import ADMINS, authenticates_itself, public

bp = Blueprint("health", __name__)
csrf.exempt(bp)
limiter.exempt(bp)


@bp.get("/healthz")
@public
def healthz():
    """Answer 200 while the process serves requests; touches nothing else."""
    return jsonify(status="ok")


@bp.get("/readyz")
@public
def readyz():
    """Answer 200 when the database answers, 503 with Retry-After when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503, {"Retry-After": "10"}
    return jsonify(status="ok", database="ok")


def scraper_token_matches() -> bool:
    """Tell whether the request carries the configured metrics token (for Prometheus)."""
    token = current_app.config["METRICS_TOKEN"]
    credentials = request.authorization
    presented = credentials.token if credentials and credentials.type == "bearer" else None
    return bool(token and presented and hmac.compare_digest(token, presented))


@bp.get("/metrics")
@authenticates_itself
def metrics():
    """Serve the Prometheus metrics to admins, or to a scraper holding PORTAL_METRICS_TOKEN."""
    if not scraper_token_matches():
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if not current_user.has_role(*ADMINS):
            abort(403)
    # Queue depth and backlog are read from the stores now: every node reports the same values.
    backlog = BacklogCollector(job_queue().depth, deliveries.backlog)
    return Response(metrics_exposition.render(backlog), mimetype=CONTENT_TYPE_LATEST)
