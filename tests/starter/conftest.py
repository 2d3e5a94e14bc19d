"""The simulated year runs once per test session and is read by the tests of its report
(test_demo.py) and of its outbox (test_demo_outbox.py)."""

from __future__ import annotations

import pytest

from tests.support.demo_year import DemoYear, run_demo_year


@pytest.fixture(scope="session")
def demo_year(tmp_path_factory: pytest.TempPathFactory) -> DemoYear:
    return run_demo_year(tmp_path_factory.mktemp("demo"))
