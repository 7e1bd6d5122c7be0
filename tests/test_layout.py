"""The house rules of the layout, read from the sources: layers only import downwards."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parent.parent / "portal"
# The layers below the web: they serve views, commands and jobs alike.
LOWER_LAYERS = ("services", "core", "models", "clients", "schemas")
BLUEPRINTS = {
    "api",
    "api_keys",
    "audit",
    "auth",
    "auto_retries",
    "companies",
    "connect",
    "external_integrations",
    "flexcharge",
    "flexcharge_webhooks",
    "health",
    "home",
    "settings",
    "users",
}


# Imports that may sit inside a function: libraries only rare paths use, whose import would
# cost every web worker time and memory at start (measured by benchmarks/startup.py).
DEFERRED_IMPORTS = {
    "flask_migrate": "alembic, mako and pygments: migrations only, 0.1 s and 12 MB",
    "flask_migrate.cli": "the `flask db` commands, for the CLI only",
    "markdown_it": "the API reference page only, 13 ms and 1 MB",
    "huey": "the job queue, on first use: its storage module imports redis and psycopg, 17 MB",
}


def sources(*packages: str) -> list[Path]:
    """Return every Python file of the packages."""
    return sorted(path for package in packages for path in (PORTAL / package).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Return the modules a file imports (and, for `from x import y`, x.y too)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def test_only_the_factory_config_extensions_and_cli_sit_at_the_top() -> None:
    top = sorted(path.name for path in PORTAL.glob("*.py"))
    assert top == ["__init__.py", "cli.py", "config.py", "extensions.py"]


@pytest.mark.parametrize("path", sources("services", "core"), ids=str)
def test_services_and_core_never_use_current_app(path: Path) -> None:
    assert "current_app" not in path.read_text()


@pytest.mark.parametrize("path", sources("services", "core"), ids=str)
def test_services_and_core_never_import_flask(path: Path) -> None:
    # No request, session, flash or app: the CLI and background jobs call the same services.
    assert not any(module.split(".")[0] == "flask" for module in imported_modules(path))


@pytest.mark.parametrize("path", sources(*LOWER_LAYERS), ids=str)
def test_lower_layers_never_import_upwards(path: Path) -> None:
    upward = {f"portal.{name}" for name in (*BLUEPRINTS, "web", "cli", "jobs")}
    imports = {module for module in imported_modules(path) if module.startswith("portal.")}
    assert not {m for m in imports if any(m == u or m.startswith(u + ".") for u in upward)}


@pytest.mark.parametrize("path", sorted(PORTAL.rglob("*.py")), ids=str)
def test_imports_sit_at_the_top_of_modules(path: Path) -> None:
    tree = ast.parse(path.read_text())
    inner = [
        node.lineno
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom)
        and not (isinstance(node, ast.ImportFrom) and node.module in DEFERRED_IMPORTS)
    ]
    assert inner == [], f"imports inside functions at lines {inner}"


def test_the_factory_imports_its_blueprints_by_name() -> None:
    factory = (PORTAL / "__init__.py").read_text()
    assert "import_module" not in factory
    for name in BLUEPRINTS:
        assert f"from portal.{name}.views import bp as {name}_bp" in factory
