"""`make demo`'s way into the console: the demo team's manager, signed in with a password drawn
afresh on every run (a new password ends the previous run's sessions)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from crm.database import Store
from starter.console.users import ConsoleRole, add_user
from starter.demo_customers import TEAM

DEMO_MANAGER = TEAM["cs_manager"]


@dataclass(frozen=True)
class DemoSignIn:
    email: str
    password: str
    url: str

    def line(self) -> str:
        """What the demo prints next to the Web UI's and the API's addresses."""
        return f"CS console:       {self.url}   (sign in as {self.email}, password {self.password})"


def demo_manager(database_url: str, api_url: str) -> DemoSignIn:
    """Make the demo's manager a console user of the CRM at `database_url` (migrated) with a new
    random password; the console is at `api_url`/console."""
    password = secrets.token_urlsafe(12)
    store = Store(database_url)
    try:
        add_user(store, DEMO_MANAGER, ConsoleRole.MANAGER, password, replace=True)
    finally:
        store.dispose()
    return DemoSignIn(DEMO_MANAGER, password, f"{api_url.rstrip('/')}/console")
