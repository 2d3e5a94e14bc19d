"""deploy/Dockerfile, .dockerignore and the image's health probe (deploy/healthcheck.py)."""

from __future__ import annotations

import fnmatch
import importlib.util
import re
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.deploy_support import (
    DEPLOY,
    DEPLOY_README,
    DOCKERIGNORE,
    REPO_ROOT,
    compose_variables,
    dockerfile_instructions,
)

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def _args(keyword: str, stage: int | None = None) -> list[str]:
    return [
        i.args
        for i in dockerfile_instructions()
        if i.keyword == keyword and (stage is None or i.stage == stage)
    ]


def _final_stage() -> int:
    return max(i.stage for i in dockerfile_instructions())


def _build_args() -> dict[str, str]:
    found: dict[str, str] = {}
    for args in _args("ARG"):
        name, _, default = args.partition("=")
        found[name] = default
    return found


def _copy_sources() -> list[str]:
    sources: list[str] = []
    for instruction in dockerfile_instructions():
        if instruction.keyword != "COPY":
            continue
        words = instruction.words()
        if any(w.startswith("--from") for w in words):
            continue
        words = [w for w in words if not w.startswith("--")]
        sources.extend(words[:-1])
    return sources


def _dockerignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text().splitlines()
    return [ln.strip().rstrip("/") for ln in lines if ln.strip() and not ln.startswith("#")]


def _ignored(path: str) -> bool:
    ignored = False
    for pattern in _dockerignore_patterns():
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        candidates = {pattern, pattern.removeprefix("**/")}
        parts = Path(path).parts
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        if any(fnmatch.fnmatch(p, c) for p in prefixes for c in candidates):
            ignored = not negate
    return ignored


def test_base_image_is_python_311_slim() -> None:
    froms = _args("FROM")
    assert froms
    resolved = [re.sub(r"\$\{(\w+)\}", lambda m: _build_args()[m[1]], f.split()[0]) for f in froms]
    assert all(image == "python:3.11-slim" for image in resolved), resolved


def test_copy_sources_exist_and_survive_the_dockerignore() -> None:
    sources = _copy_sources()
    assert "pyproject.toml" in sources
    for source in sources:
        assert (REPO_ROOT / source).exists(), f"COPY {source}: not in the repository"
        assert not _ignored(source), f"COPY {source}: excluded by .dockerignore"


def test_every_package_pyproject_installs_is_copied() -> None:
    """A package missing from the build context would install as an empty shell."""
    sources = {s.rstrip("/") for s in _copy_sources()}
    include = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {p.rstrip("*") for p in include}
    for package in packages:
        if (REPO_ROOT / package).is_dir():
            assert package in sources, f"package {package} is not copied into the image"
    for module in PYPROJECT["tool"]["setuptools"].get("py-modules", []):
        assert f"{module}.py" in sources
    readme = PYPROJECT["project"].get("readme")
    if isinstance(readme, str):
        assert readme in sources, "pyproject's readme must be in the build context"


def test_installs_with_pip_without_dev_extras() -> None:
    runs = " ".join(_args("RUN"))
    assert "pip install" in runs
    assert "[dev]" not in runs and "dev]" not in runs


def test_final_stage_runs_as_a_numeric_non_root_user() -> None:
    users = _args("USER", _final_stage())
    assert users, "the final stage sets no USER"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) != 0, "numeric, so runAsNonRoot can verify it"
    runs = " ".join(_args("RUN", _final_stage()))
    assert f"--uid {user}" in runs, "the uid has a passwd entry"


def test_healthcheck_entrypoint_command_and_ports() -> None:
    final = _final_stage()
    healthchecks = _args("HEALTHCHECK", final)
    assert healthchecks and "CMD" in healthchecks[-1]
    assert "/app/healthcheck.py" in healthchecks[-1]
    assert _args("ENTRYPOINT", final)[-1] == '["csflow"]'
    assert _args("CMD", final)[-1] == '["worker"]'
    assert "csflow" in PYPROJECT["project"]["scripts"], "the entrypoint is a console script"
    exposed = {p for args in _args("EXPOSE", final) for p in args.split()}
    assert {"8000", "9464"} <= exposed


def test_dockerignore_keeps_local_state_out() -> None:
    for path in (
        ".venv",
        "var",
        "tests/artifacts",
        ".git",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "crm/__pycache__",
        ".env",
        "deploy/.env",
    ):
        assert _ignored(path), f".dockerignore lets {path} into the build context"


def test_readme_gives_the_build_command() -> None:
    assert "docker build -f deploy/Dockerfile -t csflow ." in DEPLOY_README.read_text()
    assert {m["name"] for m in compose_variables()}  # the README tests cover each of them


# ---- deploy/healthcheck.py --------------------------------------------------------------------


@pytest.fixture(scope="module")
def healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("csflow_healthcheck", DEPLOY / "healthcheck.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        status = 200 if self.path in ("/healthz", "/metrics") else 503
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ok" if status == 200 else b"not ready")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_probe_url_follows_the_main_process(healthcheck: ModuleType) -> None:
    api = ["/opt/venv/bin/python", "/opt/venv/bin/csflow", "api"]
    worker = ["/opt/venv/bin/python", "/opt/venv/bin/csflow", "worker"]
    assert healthcheck.probe_url([], {}, api) == "http://127.0.0.1:8000/healthz"
    assert healthcheck.probe_url([], {}, worker) == "http://127.0.0.1:9464/metrics"
    assert healthcheck.probe_url([], {}, []) == "http://127.0.0.1:9464/metrics"
    env = {"CSFLOW_METRICS_PORT": "9100", "CSFLOW_API_PORT": "8080"}
    assert healthcheck.probe_url([], env, worker) == "http://127.0.0.1:9100/metrics"
    assert healthcheck.probe_url([], env, api) == "http://127.0.0.1:8080/healthz"
    override = {"CSFLOW_HEALTHCHECK_URL": "http://127.0.0.1:1/x"}
    assert healthcheck.probe_url([], override, api) == "http://127.0.0.1:1/x"
    assert healthcheck.probe_url(["http://h/y"], override, api) == "http://h/y"


def test_main_process_args_reads_a_cmdline_file(healthcheck: ModuleType, tmp_path: Path) -> None:
    cmdline = tmp_path / "cmdline"
    cmdline.write_bytes(b"python\0/opt/venv/bin/csflow\0api\0")
    assert healthcheck.main_process_args(cmdline) == ["python", "/opt/venv/bin/csflow", "api"]
    assert healthcheck.main_process_args(tmp_path / "missing") == []


def test_exit_status_follows_the_http_status(healthcheck: ModuleType, server: str) -> None:
    assert healthcheck.main([f"{server}/healthz"]) == 0
    assert healthcheck.main([f"{server}/readyz"]) == 1  # 503
    assert healthcheck.main(["http://127.0.0.1:1/healthz"]) == 1  # nothing listening
    assert healthcheck.main(["not a url"]) == 1
