"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import csrf, db, limiter
from portal.web.access import public

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
