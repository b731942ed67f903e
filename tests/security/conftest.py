"""The security suite's fixtures: the real keychain and display of the integration tests."""

from tests.integration.conftest import secret_service, x_display

__all__ = ["secret_service", "x_display"]
