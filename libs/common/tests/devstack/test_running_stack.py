"""The ``running_stack`` fixture brings up the services that exist, ready and reachable."""

from __future__ import annotations

import httpx
import pytest

from hopen_common.testing.plugin import RunningStack


@pytest.mark.e2e
def test_running_stack_services_answer_ready(running_stack: RunningStack) -> None:
    assert running_stack.urls, "no service could be started"
    for service, url in running_stack.urls.items():
        resp = httpx.get(f"{url}/health/ready", timeout=5)
        assert resp.status_code == 200, (service, resp.text)
        env = running_stack.env[service]
        assert env[f"{service.upper()}_CALENDRIER_OUVERT"] == "true"
        assert env[f"{service.upper()}_DATABASE_URL"].startswith("postgresql+asyncpg://hopen:hopen@")
