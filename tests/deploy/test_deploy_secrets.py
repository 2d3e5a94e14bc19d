"""No secret values under deploy/ (or in .dockerignore-able places): keys, passwords, tokens."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.deploy_support import COMPOSE_FILE, DEPLOY, K8S, REPO_ROOT, manifests

# Literal credentials allowed, per file: compose's documented local development default.
ALLOWED_LITERALS = {COMPOSE_FILE.name: {"csflow"}}

PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----")
SENDGRID_KEY = re.compile(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}")
AWS_KEY = re.compile(r"\bAKIA[0-9A-Z]{16}\b")
# `password: value`, `POSTGRES_PWD=value`, `api_key = "value"`, `token: value` ...
# (Not inside `${...}`: `${POSTGRES_PASSWORD:-x}` is an interpolation, checked as one below.)
ASSIGNMENT = re.compile(
    r"(?i)(?<![{\w.-])[\w.-]*(?:password|passwd|pwd|secret|token|api_?key)\b[\"']?[ \t]*[:=]"
    r"[ \t]*(?P<value>\"[^\"]*\"|'[^']*'|[^\s#,]+)"
)
_PART = r"\$\{[^}]*\}|[^:/@\s]+"
URL_CREDENTIALS = re.compile(rf"://(?P<user>{_PART}):(?P<password>{_PART})@")
INTERPOLATION = re.compile(r"^\$\{(?P<name>\w+)(?::?-(?P<default>[^}]*))?\}$")


def _files() -> list[Path]:
    return sorted(p for p in [*DEPLOY.rglob("*"), REPO_ROOT / ".dockerignore"] if p.is_file())


def _placeholder(value: str) -> bool:
    return (
        value in {"", "...", "password"}
        or value.startswith("<")  # <placeholder>
        or value.endswith((".yaml", ".yml", ".toml", ".pem", ".crt", ".key", ".yaml)"))
        or value.startswith(("$", "{"))  # a reference: $VAR, ${VAR}, {{ template }}
        or value.lower() in {"null", "~", "true", "false", "none", "changeme"}
        or bool(re.fullmatch(r"[A-Za-z_][\w.]*\([^)]*\)", value))  # code: os.environ.get(...)
    )


def _literal_values(value: str) -> list[str]:
    """The literal part(s) of a value: an interpolation's default, or the value itself."""
    value = value.strip("\"'")
    match = INTERPOLATION.match(value)
    if match:
        return [match["default"]] if match["default"] else []
    return [] if _placeholder(value) else [value]


def _findings(path: Path, text: str) -> list[str]:
    allowed = ALLOWED_LITERALS.get(path.name, set())
    found: list[str] = []
    for pattern in (PRIVATE_KEY, SENDGRID_KEY, AWS_KEY):
        found += [f"{pattern.pattern}: {m[0][:12]}..." for m in pattern.finditer(text)]
    for m in ASSIGNMENT.finditer(text):
        for literal in _literal_values(m["value"]):
            if literal not in allowed and not _placeholder(literal):
                found.append(f"assignment {m[0]!r}")
    for m in URL_CREDENTIALS.finditer(text):
        for literal in _literal_values(m["password"]):
            if literal not in allowed and not _placeholder(literal):
                found.append(f"credentials in URL {m[0]!r}")
    return found


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_no_secret_values_committed(path: Path) -> None:
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        pytest.fail(f"{path}: binary file under deploy/")
    assert _findings(path, text) == []


def test_the_scanner_catches_what_it_should() -> None:
    """Fixtures built at run time, so this file holds no secret-looking literal."""
    fake = Path("x.yaml")
    dashes = "-" * 5
    assert _findings(fake, f"{dashes}BEGIN RSA PRIVATE KEY{dashes}\nMIIE")
    assert _findings(fake, "key: " + "SG." + "a" * 22 + "." + "b" * 43)
    assert _findings(fake, "POSTGRES_PASSWORD: " + "hunter2")
    assert _findings(fake, "password = '" + "s3cret" + "'")
    assert _findings(fake, "url: postgresql://csflow:" + "hunter2" + "@db:5432/csflow")
    assert _findings(fake, "POSTGRES_PWD: ${POSTGRES_PASSWORD:-" + "hunter2" + "}")
    assert not _findings(fake, "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}")
    assert not _findings(fake, "url: postgresql+psycopg://csflow:<password>@<host>:5432/csflow")
    assert not _findings(fake, "SENDGRID_API_KEY: ${SENDGRID_API_KEY:-}")
    assert not _findings(Path(COMPOSE_FILE.name), "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-csflow}")


def test_the_example_secret_holds_only_placeholders() -> None:
    (secret,) = manifests(K8S / "secret.example.yaml")
    assert secret.kind == "Secret"
    assert "data" not in secret.doc, "use stringData placeholders, not base64 values"
    for key, value in secret.doc["stringData"].items():
        assert re.search(r"<[^>]+>", value), f"{key} is not a <placeholder>"
    assert "EXAMPLE" in (K8S / "secret.example.yaml").read_text()
