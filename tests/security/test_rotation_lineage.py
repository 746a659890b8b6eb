"""Pentest: rotation lineage (SPEC §5, §9.2).

A key rotated with a grace period is neither revoked nor expired yet, so it passed the
"changeable" test and could be rotated again: a second successor, the first one orphaned
(its ``rotated_from_id`` names a key whose ``replaced_by_id`` names another), two live keys
out of one, and the lineage the console shows no longer tells which key replaced which.
A decoy key (SPEC §11) rotated into a successor that was no decoy: a key that authenticates,
born of a tripwire.
"""

from __future__ import annotations

from datetime import timedelta

from tests.console.keys import call, create_key


def _keys(client, token):
    listed = call(client, token, "GET", "/console/keys").get_json()["data"]
    return {key["id"]: key for key in listed}


def test_a_key_already_rotated_cannot_be_rotated_again(client, admin_token):
    old = create_key(client, admin_token)
    first = call(
        client, admin_token, "POST", f"/console/keys/{old['id']}/rotate", {"grace_seconds": 3600}
    )
    assert first.status_code == 201
    again = call(
        client, admin_token, "POST", f"/console/keys/{old['id']}/rotate", {"grace_seconds": 3600}
    )
    assert again.status_code == 409, again.get_json()
    assert again.get_json()["error"]["code"] == "CONFLICT"
    keys = _keys(client, admin_token)
    assert len(keys) == 2  # the old key and its one successor
    assert keys[old["id"]]["replaced_by_id"] == first.get_json()["id"]


def test_the_successor_can_be_rotated(client, admin_token):
    old = create_key(client, admin_token)
    first = call(
        client, admin_token, "POST", f"/console/keys/{old['id']}/rotate", {"grace_seconds": 60}
    )
    successor = first.get_json()["id"]
    second = call(client, admin_token, "POST", f"/console/keys/{successor}/rotate")
    assert second.status_code == 201
    assert second.get_json()["rotated_from_id"] == successor


def test_a_decoy_cannot_be_rotated_into_a_working_key(client, admin_token):
    decoy = create_key(client, admin_token, decoy=True)
    rotated = call(client, admin_token, "POST", f"/console/keys/{decoy['id']}/rotate")
    assert rotated.status_code == 409, rotated.get_json()
    assert "key" not in rotated.get_json()
    assert len(_keys(client, admin_token)) == 1


def test_an_expired_key_cannot_be_rotated(client, admin_token, store, tenant, clock):
    """Rotating an expired key issued a successor with the same, past, expiry: a key shown
    once that never worked, and an audit entry and event for it."""
    expires = (clock.now + timedelta(seconds=60)).isoformat()
    old = create_key(client, admin_token, expires_at=expires)
    clock.advance(seconds=120)
    rotated = call(client, admin_token, "POST", f"/console/keys/{old['id']}/rotate")
    assert rotated.status_code == 409, rotated.get_json()
    assert "key" not in rotated.get_json()
    assert len(_keys(client, admin_token)) == 1
