def test_health_names_the_tenant_and_key(client, tenant, api_key):
    key = api_key(scopes=["contacts:read"])
    response = client.get("/api/v1/health", headers={"x-tenant-api-key": key})
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["tenant"] == {"id": tenant.id, "name": "Acme"}
    assert body["key"]["scopes"] == ["contacts:read"]
    assert response.headers["X-Request-Id"].startswith("req_")
