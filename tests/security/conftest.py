"""The security suite's fixtures: the real keychain and display of the integration tests."""

from tests.helpers.secret_service import secret_service
from tests.integration.conftest import x_display

__all__ = ["secret_service", "x_display"]
