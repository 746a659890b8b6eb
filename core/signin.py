"""What the dashboard needs to know to sign people in, built by the console's provider set-up
(``console.providers.sign_in_settings``) and read by the dashboard: it lives below both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SignInSettings:
    """What the dashboard needs to know to sign people in; rendered into its page config."""

    dev_login: bool
    dev_login_token_url: str | None
    dev_login_jwks_url: str | None
    clerk_publishable_key: str | None
    issuers: tuple[str, ...]

    def as_page_config(self) -> dict[str, Any]:
        return {
            "devLogin": self.dev_login,
            "devLoginTokenUrl": self.dev_login_token_url,
            "clerkPublishableKey": self.clerk_publishable_key,
        }
