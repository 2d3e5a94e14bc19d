"""Console users in the CRM (`console_users`): who may sign in to the CS console, as a CSM (their
own accounts and tasks) or a manager (all of them), with an argon2 hash of their password.

Sign-ins are checked here too. A failed one is recorded per address, known or not, so the answer
never tells whether an address has an account: `LOCKOUT_FAILURES` failures within
`LOCKOUT_WINDOW` lock the address out until the oldest of them is that old (the rows are in the
database, so a restart does not lift a lockout), and a successful sign-in clears them.

Blocking: callers in an event loop run these in a thread (argon2 takes tens of milliseconds by
design).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel
from sqlmodel import Session, col, delete, select

from crm.database import Store
from crm.tables import ConsoleSignInFailureRow, ConsoleUserRow
from domain import addresses
from domain.addresses import normalize_email

MIN_PASSWORD_CHARS = 10
# argon2 hashes whatever it is given; a bound keeps a sign-in form from being a CPU lever.
MAX_PASSWORD_CHARS = 256
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)

_hasher = PasswordHasher()
# Verified against when the address is unknown, so that answer takes as long as a wrong password.
_UNKNOWN_USER_HASH = _hasher.hash("no such console user")


class ConsoleRole(StrEnum):
    CSM = "csm"
    MANAGER = "manager"


ROLE_WORDS = {ConsoleRole.CSM: "CSM", ConsoleRole.MANAGER: "manager"}


class ConsoleUser(BaseModel):
    email: str
    role: ConsoleRole
    created_at: datetime
    password_set_at: datetime

    @property
    def is_manager(self) -> bool:
        return self.role == ConsoleRole.MANAGER


class UserRefused(ValueError):
    """An address or password that cannot be used; the message says why, in plain words."""


class UnknownUser(LookupError):
    def __init__(self, email: str) -> None:
        super().__init__(f"no console user {email}")
        self.email = email


class UserExists(Exception):
    def __init__(self, email: str) -> None:
        super().__init__(f"{email} is a console user already")
        self.email = email


class SignInRefused(Exception):
    """Wrong address or password (the same answer for both), or an address locked out."""

    def __init__(self, locked_until: datetime | None = None) -> None:
        super().__init__("locked out" if locked_until else "wrong email or password")
        self.locked_until = locked_until


def checked_email(value: str) -> str:
    try:
        return addresses.checked_email(value)
    except ValueError as exc:
        raise UserRefused(str(exc)) from None


def checked_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserRefused(f"the password is too short: at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise UserRefused(f"the password is too long: at most {MAX_PASSWORD_CHARS} characters")
    if password != password.strip() or any(ord(c) < 32 for c in password):
        raise UserRefused("the password starts or ends with a space, or holds a control character")
    return password


def _user(row: ConsoleUserRow) -> ConsoleUser:
    return ConsoleUser.model_validate(row, from_attributes=True)


def add_user(
    store: Store,
    email: str,
    role: ConsoleRole,
    password: str,
    *,
    replace: bool = False,
    now: datetime | None = None,
) -> ConsoleUser:
    """Add a console user (or, with `replace`, give an existing one this role and password,
    which ends their sessions). Raises UserRefused, or UserExists without `replace`."""
    email = checked_email(email)
    password_hash = _hasher.hash(checked_password(password))
    now = (now or datetime.now(UTC)).astimezone(UTC)
    with store.session() as session:
        row = session.get(ConsoleUserRow, email)
        if row is not None and not replace:
            raise UserExists(email)
        if row is None:
            row = ConsoleUserRow(
                email=email,
                role=role.value,
                password_hash=password_hash,
                created_at=now,
                password_set_at=now,
            )
        else:
            row.role, row.password_hash, row.password_set_at = role.value, password_hash, now
        session.add(row)
        _forget_failures(session, email)
        session.flush()
        return _user(row)


def remove_user(store: Store, email: str) -> ConsoleUser:
    """Remove a console user (their sessions end at their next request). Raises UnknownUser."""
    email = normalize_email(email)
    with store.session() as session:
        row = session.get(ConsoleUserRow, email)
        if row is None:
            raise UnknownUser(email)
        user = _user(row)
        session.delete(row)
        return user


def list_users(store: Store) -> list[ConsoleUser]:
    """Every console user, by address."""
    with store.session() as session:
        rows = session.exec(select(ConsoleUserRow).order_by(col(ConsoleUserRow.email))).all()
        return [_user(row) for row in rows]


def any_users(store: Store) -> bool:
    """Whether anyone can sign in (the console is off until someone can)."""
    with store.session() as session:
        return session.exec(select(ConsoleUserRow.email).limit(1)).first() is not None


def get_user(store: Store, email: str) -> ConsoleUser | None:
    with store.session() as session:
        row = session.get(ConsoleUserRow, normalize_email(email))
        return _user(row) if row is not None else None


def sign_in(store: Store, email: str, password: str, *, now: datetime | None = None) -> ConsoleUser:
    """The user whose address and password these are. Raises SignInRefused: wrong address or
    password (recorded as a failure), or an address locked out (its password is not checked)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    email = normalize_email(email)[:254]
    with store.session() as session:
        locked_until = _locked_until(session, email, now)
        if locked_until is not None:
            raise SignInRefused(locked_until)
        row = session.get(ConsoleUserRow, email)
        if _verified(row, password):
            assert row is not None
            _forget_failures(session, email)
            if _hasher.check_needs_rehash(row.password_hash):
                row.password_hash = _hasher.hash(password)
                session.add(row)
            return _user(row)
        session.add(ConsoleSignInFailureRow(email=email, failed_at=now))
        # Failures older than the window count for nothing: forget them, for every address.
        session.exec(
            delete(ConsoleSignInFailureRow).where(
                col(ConsoleSignInFailureRow.failed_at) < now - LOCKOUT_WINDOW
            )
        )
    raise SignInRefused()


def _verified(row: ConsoleUserRow | None, password: str) -> bool:
    if len(password) > MAX_PASSWORD_CHARS:
        return False
    try:
        _hasher.verify(row.password_hash if row is not None else _UNKNOWN_USER_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return row is not None


def _locked_until(session: Session, email: str, now: datetime) -> datetime | None:
    recent = session.exec(
        select(ConsoleSignInFailureRow.failed_at)
        .where(
            ConsoleSignInFailureRow.email == email,
            col(ConsoleSignInFailureRow.failed_at) > now - LOCKOUT_WINDOW,
        )
        .order_by(col(ConsoleSignInFailureRow.failed_at).desc())
        .limit(LOCKOUT_FAILURES)
    ).all()
    if len(recent) < LOCKOUT_FAILURES:
        return None
    # Locked until the oldest of the last LOCKOUT_FAILURES failures leaves the window.
    return recent[-1] + LOCKOUT_WINDOW


def _forget_failures(session: Session, email: str) -> None:
    session.exec(delete(ConsoleSignInFailureRow).where(col(ConsoleSignInFailureRow.email) == email))
