"""Generate the instance secrets on first run (files of mode 0600): session key, encryption
key, API-key pepper. A file that exists is never overwritten."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from portal.config import API_KEY_PEPPER_FILE, ENCRYPTION_KEYS_FILE, SECRET_KEY_FILE

DEFAULT_INSTANCE = Path(__file__).resolve().parent.parent / "instance"


def write_secret_file(path: Path, value: str) -> bool:
    """Create the file with mode 0600 unless it exists; return whether it was created."""
    try:
        # O_EXCL: never overwrite a key that encrypts existing data.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return True


def ensure_instance_secrets(instance_path: Path = DEFAULT_INSTANCE) -> list[str]:
    """Create the missing instance secret files; return the names created."""
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    created = []
    if write_secret_file(instance_path / SECRET_KEY_FILE, secrets.token_urlsafe(48)):
        created.append(SECRET_KEY_FILE)
    if write_secret_file(instance_path / ENCRYPTION_KEYS_FILE, Fernet.generate_key().decode()):
        created.append(ENCRYPTION_KEYS_FILE)
    if write_secret_file(instance_path / API_KEY_PEPPER_FILE, secrets.token_urlsafe(48)):
        created.append(API_KEY_PEPPER_FILE)
    return created


if __name__ == "__main__":
    for name in ensure_instance_secrets():
        print(f"Generated {DEFAULT_INSTANCE / name} (mode 0600)", file=sys.stderr)
