"""`csflow users add|list|remove`: who may sign in to the CS console (`/console` on the API), kept
in the CRM (`DATABASE_URL`) by starter.console.users.

A password is read from standard input, never from an argument (arguments end up in shell
history and process lists): typed twice at a terminal, else the first line of what is piped in.
Like the other CRM commands these never create a database, and every refusal is one line with
what to do. Registered on the main app by `register(app)`.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from typing import NoReturn, TypeVar

import typer

from crm import database
from starter.cli_output import table
from starter.console.users import (
    ROLE_WORDS,
    ConsoleRole,
    ConsoleUser,
    UnknownUser,
    UserExists,
    UserRefused,
    add_user,
    checked_email,
    list_users,
    remove_user,
)
from starter.cs_commands import crm_errors

T = TypeVar("T")
PIPE_HINT = "type it when asked, or pipe it in: printf '%s\\n' \"$PASSWORD\" | csflow users add ..."

ROLE_HELP = "csm (their own accounts and tasks) or manager (everyone's)"

users_app = typer.Typer(
    help="Who may sign in to the CS console (/console on the API).", no_args_is_help=True
)


def _fail(message: str) -> NoReturn:
    typer.echo(f"csflow: {message}", err=True)
    raise typer.Exit(1)


def _on_crm(work: Callable[[database.Store], T], doing: str) -> T:
    try:
        with crm_errors(doing):
            return work(database.get_existing_store())
    finally:
        # Connections closed now leave no SQLite -wal/-shm files behind a short-lived command.
        database.reset()


def _password(email: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(f"Password for {email}: ")
        if getpass.getpass("The same password again: ") != first:
            _fail("the two passwords differ: nothing changed (run the command again)")
        return first
    line = sys.stdin.readline()
    if not line.strip():
        _fail(f"no password on standard input ({PIPE_HINT})")
    return line.removesuffix("\n").removesuffix("\r")


def _role(value: str) -> str:
    if value not in {r.value for r in ConsoleRole}:
        raise typer.BadParameter(f"{value!r} is not a role: {ROLE_HELP}")
    return value


def _json(user: ConsoleUser) -> dict[str, str]:
    return user.model_dump(mode="json")


@users_app.command("add")
def users_add(
    email: str = typer.Argument(..., help="the person's email address (their accounts' CSM owner)"),
    role: str = typer.Option(
        ..., "--role", help=ROLE_HELP, callback=_role, metavar="csm|manager", show_default=False
    ),
    replace: bool = typer.Option(
        False, "--replace", help="a user already: give them this role and a new password"
    ),
    as_json: bool = typer.Option(False, "--json", help="one JSON document on stdout"),
) -> None:
    """Let someone sign in to the console; the password is read from standard input.

    Example: csflow users add casey@example.com --role csm
    """

    def add(store: database.Store) -> ConsoleUser:
        try:
            # The address is checked before anyone types a password for it.
            password = _password(checked_email(email))
            return add_user(store, email, ConsoleRole(role), password, replace=replace)
        except UserRefused as exc:
            _fail(f"{exc}: nothing changed")
        except UserExists as exc:
            _fail(
                f"{exc.email} can sign in already (add --replace to set a new password and "
                "role, or `csflow users remove` them)"
            )

    user = _on_crm(add, "write to")
    if as_json:
        typer.echo(json.dumps(_json(user)))
        return
    verb = "Updated" if replace and user.created_at != user.password_set_at else "Added"
    typer.echo(f"{verb} console user {user.email} ({ROLE_WORDS[user.role]}).")
    typer.echo("They sign in at /console on the API (csflow api).")


@users_app.command("list")
def users_list(
    as_json: bool = typer.Option(False, "--json", help="one JSON document on stdout"),
) -> None:
    """Everyone who can sign in to the console, with their role."""
    users = _on_crm(list_users, "read")
    if as_json:
        typer.echo(json.dumps([_json(u) for u in users]))
        return
    if not users:
        typer.echo("No console users: the console is off (add one with `csflow users add`).")
        return
    rows = [(u.email, ROLE_WORDS[u.role], u.created_at, u.password_set_at) for u in users]
    typer.echo(table(["email", "role", "added", "password set"], rows))


@users_app.command("remove")
def users_remove(
    email: str = typer.Argument(..., help="the console user's email address"),
) -> None:
    """Stop someone signing in to the console (their open sessions end too)."""

    def remove(store: database.Store) -> ConsoleUser:
        try:
            return remove_user(store, email)
        except UnknownUser as exc:
            _fail(f"{exc} (`csflow users list` shows who can sign in)")

    user = _on_crm(remove, "write to")
    typer.echo(f"Removed console user {user.email} ({ROLE_WORDS[user.role]}).")


def register(app: typer.Typer) -> None:
    """Add `users` to the `csflow` app."""
    app.add_typer(users_app, name="users")
