"""Absurdly nested JSON is a 400 on every endpoint, never a 500 (security item 31)."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_deeply_nested_json_is_refused_everywhere(accountant):
    client = APIClient()
    client.force_authenticate(accountant)
    body = "[" * 5000 + "]" * 5000
    for url in ("/api/v1/me/archive/", "/api/v1/changes/"):
        method = client.patch if url.endswith("archive/") else client.post
        response = method(url, body, content_type="application/json")
        assert response.status_code == 400, url
        assert response.json() == {"detail": ["请求内容无法解析：请发送有效的 JSON 或表单数据。"]}
