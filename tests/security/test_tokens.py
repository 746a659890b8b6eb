"""Pentest: session-token claims that reach a 500 instead of a 401 (SPEC §4, §6.1).

An ``exp`` too large for a float passes PyJWT (integer comparison) and the JSON-number check,
then overflows ``float(claims["exp"])`` where the verified-token cache computes its lifetime.
(``Infinity`` and huge ``nbf``/``iat`` are refused with a 401: they held.)
"""

from __future__ import annotations

from tests.console.idp import bearer


def test_an_exp_too_large_for_a_float_is_a_401_not_a_500(client, idp, tenant):
    token = idp.token(org_id="org_acme", exp=10**400)
    response = client.get("/console/me", headers=bearer(token))
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "AUTH_INVALID_TOKEN"
