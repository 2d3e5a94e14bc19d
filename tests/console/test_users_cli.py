"""`csflow users add|list|remove` as an operator runs them: a subprocess on a migrated CRM file
(DATABASE_URL), the password piped to standard input (tests.support.cli_runner)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from sqlmodel import select

from crm.database import Store
from crm.tables import ConsoleUserRow
from starter.console.users import ConsoleRole, SignInRefused, sign_in
from tests.support.cli_runner import Done, run_csflow

PASSWORD = "correct horse battery"


class Users:
    def __init__(self, store: Store, cwd: Path) -> None:
        self.store, self.cwd = store, cwd
        self.environ: dict[str, str | None] = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "CSFLOW_"))},
            "DATABASE_URL": store.url,
            "COLUMNS": "200",
        }

    async def __call__(self, *args: str, stdin: str | None = None, **env: str | None) -> Done:
        return await run_csflow(("users", *args), {**self.environ, **env}, self.cwd, stdin)

    def rows(self) -> list[ConsoleUserRow]:
        with self.store.session() as session:
            return list(session.exec(select(ConsoleUserRow)).all())


@pytest.fixture
def users(store: Store, tmp_path: Path) -> Users:
    return Users(store, tmp_path)


async def test_add_list_and_remove_a_console_user(users: Users) -> None:
    added = await users("add", "Casey@CSflow.example", "--role", "csm", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines()[0] == "Added console user casey@csflow.example (CSM)."
    [row] = users.rows()
    # Stored as an argon2 hash of the piped line (without its newline), never as given.
    assert row.email == "casey@csflow.example" and row.role == "csm"
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
    assert sign_in(users.store, "casey@csflow.example", PASSWORD).role == ConsoleRole.CSM

    manager = await users("add", "morgan@csflow.example", "--role", "manager", stdin=PASSWORD)
    assert manager.returncode == 0, manager.stderr
    listed = await users("list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["EMAIL", "ROLE", "ADDED", "PASSWORD", "SET"]
    assert [line.split()[:2] for line in lines[1:]] == [
        ["casey@csflow.example", "CSM"],
        ["morgan@csflow.example", "manager"],
    ]
    as_json = (await users("list", "--json")).json()
    assert [(u["email"], u["role"]) for u in as_json] == [
        ("casey@csflow.example", "csm"),
        ("morgan@csflow.example", "manager"),
    ]
    assert all(
        "password" not in key for user in as_json for key in user if key != "password_set_at"
    )

    # --replace: a new password and role; the old password no longer signs in.
    replaced = await users(
        "add", "casey@csflow.example", "--role", "manager", "--replace", stdin="a new passphrase\n"
    )
    assert replaced.returncode == 0, replaced.stderr
    assert replaced.stdout.splitlines()[0] == (
        "Updated console user casey@csflow.example (manager)."
    )
    with pytest.raises(SignInRefused):
        sign_in(users.store, "casey@csflow.example", PASSWORD)
    assert sign_in(users.store, "casey@csflow.example", "a new passphrase").is_manager

    removed = await users("remove", "CASEY@csflow.example")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.strip() == "Removed console user casey@csflow.example (manager)."
    assert [r.email for r in users.rows()] == ["morgan@csflow.example"]
    await users("remove", "morgan@csflow.example")
    assert (await users("list")).stdout.strip() == (
        "No console users: the console is off (add one with `csflow users add`)."
    )


async def test_refusals_are_one_line_and_change_nothing(users: Users) -> None:
    casey = "casey@csflow.example"
    # Independent of each other: run side by side.
    short, nothing, address, role, missing_role, as_argument, unknown = await asyncio.gather(
        users("add", casey, "--role", "csm", stdin="tiny\n"),
        users("add", casey, "--role", "csm", stdin=""),
        users("add", "casey", "--role", "csm", stdin=PASSWORD),
        users("add", casey, "--role", "boss", stdin=PASSWORD),
        users("add", casey, stdin=PASSWORD),
        # The password is never an argument (shell history, process lists).
        users("add", casey, "--role", "csm", "--password", "x"),
        users("remove", "nobody@csflow.example"),
    )
    assert short.line() == (
        "csflow: the password is too short: at least 10 characters: nothing changed"
    )
    assert nothing.line().startswith("csflow: no password on standard input (type it when asked")
    assert address.line() == "csflow: not a valid email address: 'casey': nothing changed"
    assert role.line(code=2) == (
        "csflow: Invalid value for '--role': 'boss' is not a role: csm (their own accounts and "
        "tasks) or manager (everyone's) (see `csflow users add --help`)"
    )
    assert "Missing option '--role'" in missing_role.line(code=2)
    assert "No such option" in as_argument.line(code=2)
    assert unknown.line() == (
        "csflow: no console user nobody@csflow.example (`csflow users list` shows who can sign in)"
    )
    assert users.rows() == []

    assert (
        await users("add", "casey@csflow.example", "--role", "csm", stdin=PASSWORD)
    ).returncode == 0
    twice = await users(
        "add", "casey@csflow.example", "--role", "manager", stdin="another pass phrase"
    )
    assert twice.line() == (
        "csflow: casey@csflow.example can sign in already (add --replace to set a new password "
        "and role, or `csflow users remove` them)"
    )
    [row] = users.rows()
    assert row.role == "csm"


async def test_reads_never_create_a_database(users: Users, tmp_path: Path) -> None:
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    done = await run_csflow(("users", "list"), {**users.environ, "DATABASE_URL": None}, empty)
    assert done.line().startswith("csflow: no CRM database at var/csflow.db")
    assert list(empty.iterdir()) == []
