"""A Flask-Admin ModelView over the portal's customers table, the peer `make bench` compares with.

Served by gunicorn like the portal (`benchmarks.flask_admin_app:app`) on the SAME database file
(`BENCH_DATABASE_URL`): Flask-Admin's list view at /admin/customer/ with its default page size
(20) and order, searching name and public id. Installed only for the benchmark (the `bench`
extra); nothing in the portal or its tests imports it. It has no sign-in, which only flatters it.
"""

from __future__ import annotations

import os
from datetime import datetime

from flask import Flask
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The declarative base of this app's one model."""


db = SQLAlchemy(model_class=Base)


class Customer(db.Model):
    """The portal's customers table, as the columns a list shows (the table is not created)."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    company_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CustomerView(ModelView):
    """Flask-Admin's list of customers: defaults, plus search on name and public id."""

    column_searchable_list = ("name", "public_id")


def create_app(database_url: str) -> Flask:
    """Build the Flask-Admin app over the database at `database_url`."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    app.config["SECRET_KEY"] = os.urandom(16).hex()
    db.init_app(app)
    admin = Admin(app, name="Benchmark")
    admin.add_view(CustomerView(Customer, db.session))

    @app.get("/healthz")
    def healthz():
        """Answer the baseline request, as the portal's /healthz does."""
        return {"status": "ok"}

    return app


app = create_app(os.environ.get("BENCH_DATABASE_URL", "sqlite://"))
