"""`make demo` gives the demo's manager a fresh password for the console on every run."""

from __future__ import annotations

import pytest

from crm.database import Store
from starter.console.demo_user import DEMO_MANAGER, demo_manager
from starter.console.users import SignInRefused, list_users, sign_in


def test_each_demo_run_signs_the_manager_in_with_a_new_password(store: Store) -> None:
    first = demo_manager(store.url, "http://127.0.0.1:8000/")
    assert first.url == "http://127.0.0.1:8000/console"
    assert first.email == DEMO_MANAGER == "morgan.manager@csflow.example"
    assert sign_in(store, DEMO_MANAGER, first.password).is_manager
    assert first.line() == (
        f"CS console:       http://127.0.0.1:8000/console   (sign in as {DEMO_MANAGER}, "
        f"password {first.password})"
    )

    second = demo_manager(store.url, "http://127.0.0.1:8000")
    assert second.password != first.password and len(second.password) >= 16
    with pytest.raises(SignInRefused):
        sign_in(store, DEMO_MANAGER, first.password)
    assert sign_in(store, DEMO_MANAGER, second.password).email == DEMO_MANAGER
    assert [u.email for u in list_users(store)] == [DEMO_MANAGER]
