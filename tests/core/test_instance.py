"""`make run` generates the instance secrets where the app reads them."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet

from portal import create_app
from portal.core.instance import DEFAULT_INSTANCE, ensure_instance_secrets


def test_the_secrets_go_to_the_folder_flask_uses_as_its_instance_path(tmp_path) -> None:
    app = create_app(
        {
            "SECRET_KEY": "x",
            "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "API_KEY_PEPPER": "p" * 32,
        }
    )
    assert Path(app.instance_path) == DEFAULT_INSTANCE
    assert sorted(ensure_instance_secrets(tmp_path)) == [
        "api_key_pepper",
        "encryption_keys",
        "secret_key",
    ]
    for name in ("secret_key", "encryption_keys", "api_key_pepper"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
