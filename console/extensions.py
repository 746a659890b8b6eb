"""The console's extension, created once and initialised in ``create_app``."""

from console.services import ConsoleAuthService

console_auth = ConsoleAuthService()
