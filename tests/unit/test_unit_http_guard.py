"""The gate in front of every route: keys everywhere but the page's login, loopback Host names,
same-origin writes, and throttled login attempts."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from app.http_guard import LoginThrottle
from app.queueing import AnswerSlots

KEY = "s3cret-s3cret-s3cret"
LOCAL = "http://127.0.0.1:7860"


def api_for(settings):
    """build_api over a stand-in assistant: the guard answers before any route needs the real one."""
    from app.http_api import build_api

    fake = SimpleNamespace(settings=settings, answer_slots=AnswerSlots(1), documents=lambda: [],
                           remove=lambda doc: False)
    return build_api(fake)


@pytest.fixture
def keyed(unit_settings):
    return TestClient(api_for(unit_settings.with_changes(api_key=SecretStr(KEY))), base_url=LOCAL)


@pytest.mark.parametrize("path", ["/v1/models", "/v1/documents", "/v1/docs", "/v1/openapi.json", "/health"])
def test_with_a_key_every_api_route_needs_it_docs_and_health_included(keyed, path):
    refused = keyed.get(path)
    assert refused.status_code == 401 and refused.json()["error"]["type"] == "authentication_error"
    assert keyed.get(path, headers={"Authorization": f"Bearer {KEY}"}).status_code == 200


def test_without_a_key_on_loopback_the_api_is_open(unit_settings):
    client = TestClient(api_for(unit_settings), base_url=LOCAL)
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/v1/models").status_code == 200


def test_wrong_keys_are_throttled_per_address(keyed):
    for _ in range(10):
        assert keyed.get("/v1/models", headers={"Authorization": "Bearer guess"}).status_code == 401
    throttled = keyed.get("/v1/models", headers={"Authorization": f"Bearer {KEY}"})
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert throttled.json()["error"]["type"] == "rate_limit_error"


def test_throttle_forgets_old_failures():
    throttle = LoginThrottle(limit=2, window_s=0.05)
    throttle.failed("a"), throttle.failed("a")
    assert throttle.retry_after("a") >= 1 and throttle.retry_after("b") == 0
    import time

    time.sleep(0.06)
    assert throttle.retry_after("a") == 0


@pytest.mark.parametrize("host", ["evil.example", "evil.example:7860", "10.0.0.5:7860", "kabar.local"])
def test_on_loopback_other_host_names_are_refused_dns_rebinding(unit_settings, host):
    client = TestClient(api_for(unit_settings), base_url=LOCAL)
    response = client.get("/v1/models", headers={"Host": host})
    assert response.status_code == 400 and "not allowed" in response.json()["error"]["message"]


@pytest.mark.parametrize("host", ["127.0.0.1:7860", "localhost:7860", "[::1]:7860", "localhost"])
def test_loopback_host_names_are_served(unit_settings, host):
    client = TestClient(api_for(unit_settings), base_url=LOCAL)
    assert client.get("/v1/models", headers={"Host": host}).status_code == 200


def test_off_loopback_any_host_name_is_served_with_the_key(unit_settings):
    settings = unit_settings.with_changes(web_host="0.0.0.0", api_key=SecretStr(KEY))
    client = TestClient(api_for(settings), base_url="http://kabar.example.org")
    assert client.get("/v1/models", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:9999", "http://localhost:7860"])
def test_cross_site_writes_are_refused(unit_settings, origin):
    client = TestClient(api_for(unit_settings), base_url=LOCAL)
    upload = client.post("/v1/documents", headers={"Origin": origin},
                         files=[("files", ("a.txt", b"Harga beras turun.", "text/plain"))])
    assert upload.status_code == 403 and upload.json()["error"]["type"] == "permission_error"
    assert client.delete("/v1/documents/x", headers={"Origin": origin}).status_code == 403
    assert client.post("/login", headers={"Origin": origin}, data={"username": "a"}).status_code == 403


def test_browser_fetch_metadata_without_origin_is_checked_too(unit_settings):
    client = TestClient(api_for(unit_settings), base_url=LOCAL)
    assert client.delete("/v1/documents/x", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403


def test_same_origin_and_originless_writes_pass(unit_settings):
    client = TestClient(api_for(unit_settings), base_url=LOCAL)
    assert client.delete("/v1/documents/x", headers={"Origin": LOCAL}).status_code == 404
    assert client.delete("/v1/documents/x").status_code == 404  # curl, the openai SDK: no Origin
    assert client.delete("/v1/documents/x", headers={"Origin": "https://kabar.example.org",
                                                     "X-Forwarded-Host": "kabar.example.org"}).status_code == 404


def test_cross_site_reads_are_not_writes(unit_settings):
    client = TestClient(api_for(unit_settings), base_url=LOCAL)
    assert client.get("/v1/models", headers={"Origin": "http://evil.example"}).status_code == 200


def test_failed_page_logins_are_throttled(unit_settings, fake_embeddings):
    from app.server import create_app
    from tests.unit.test_unit_http_api import make_assistant

    settings = unit_settings.with_changes(api_key=SecretStr(KEY))
    with TestClient(create_app(make_assistant(settings, fake_embeddings, ["x"])), base_url=LOCAL) as client:
        for _ in range(10):
            assert client.post("/login", data={"username": "kabar", "password": "nope"}).status_code >= 400
        refused = client.post("/login", data={"username": "kabar", "password": KEY})
        assert refused.status_code == 429 and refused.headers["retry-after"]
