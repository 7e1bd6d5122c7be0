"""Domain exceptions shared by services (portal/services/errors.py)."""

from __future__ import annotations

import pytest

from portal.services.api_keys import ApiKeyThrottled
from portal.services.errors import Throttled
from portal.services.users import SignInThrottled


@pytest.mark.parametrize("error", [SignInThrottled, ApiKeyThrottled])
def test_every_throttle_says_when_to_try_again(error: type[Throttled]) -> None:
    raised = error(42)
    assert isinstance(raised, Throttled)
    assert raised.retry_after == 42
    assert str(raised) == "retry after 42 s"
