"""The reference page is drawn from the OpenAPI document: every operation, schema and limit."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from portal.api.provisioning import openapi
from portal.api.provisioning.reference import markdown, reference


def _text(parts) -> str:
    return "".join(part.text for part in parts)


def test_every_operation_and_schema_of_the_document_is_on_the_page() -> None:
    document = openapi.document()
    content = reference()
    assert [(e.method.lower(), e.path) for e in content.endpoints] == [
        (method, path) for path, ops in document["paths"].items() for method in ops
    ]
    assert {s.name for s in content.schemas} == set(document["components"]["schemas"])


def test_links_point_at_schemas_the_page_shows() -> None:
    content = reference()
    names = {schema.name for schema in content.schemas}
    linked = {
        part.text
        for schema in content.schemas
        for field in schema.fields
        for part in field.type
        if part.link
    }
    linked |= {e.body for e in content.endpoints if e.body}
    linked |= {a.schema for e in content.endpoints for a in e.answers if a.schema}
    assert linked, "the page links bodies and nested types to their schemas"
    assert linked <= names


def test_fields_show_the_limits_the_api_enforces() -> None:
    schemas = {schema.name: schema for schema in reference().schemas}
    name = next(f for f in schemas["MerchantInput"].fields if f.name == "name")
    assert name.required
    assert _text(name.type) == "string"
    assert "3 to 200 characters" in name.rules
    country = next(f for f in schemas["MerchantInput"].fields if f.name == "country")
    assert not country.required
    assert _text(country.type) == "string or null"
    assert "pattern ^[A-Z]{2}$" in country.rules
    terminals = next(f for f in schemas["ConnectionConfig"].fields if f.name == "testMode")
    assert "default false" in terminals.rules


def test_markdown_never_passes_raw_html_through() -> None:
    html = markdown("`code` and <script>alert(1)</script>")
    assert "<code>code</code>" in html
    assert "<script>" not in html


def test_the_page_renders_for_any_signed_in_user(client: FlaskClient, login) -> None:
    login("viewer")
    page = client.get("/account/integrations/api-reference").get_data(as_text=True)
    for operation_id in ("createMerchant", "updateConnector", "listConnectors"):
        assert f'id="{operation_id}"' in page
    assert 'href="#schema-NewConnectorInput"' in page
    assert re.search(r"<td[^>]*>\s*<code>404</code>", page)
