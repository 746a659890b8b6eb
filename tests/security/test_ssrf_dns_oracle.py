"""Pentest: the webhook attempt log as an oracle of the deployment's internal DNS (SPEC §10).

A delivery refused by the SSRF check was logged as "the URL's host resolves to a non-public
address (10.0.3.7)", readable by the tenant in ``GET /console/webhooks/<id>/deliveries``: any
tenant could map the names only the deployment's network resolves (``db.internal``,
``redis.svc.cluster.local``) to their addresses, and tell them from names that do not exist
("does not resolve"). A refused name now gets one answer, whatever it resolved to.
"""

from __future__ import annotations

import socket

from tenants.outbound import Sender


def test_a_refused_name_reveals_neither_its_address_nor_whether_it_exists():
    internal = socket.gethostname()  # resolves to 127.0.x.x here, as an internal name would
    address = socket.gethostbyname(internal)
    assert address.startswith("127."), "precondition: a name of the deployment's network"
    sender = Sender(allow_private=False)
    resolved = sender.post(f"https://{internal}/hook", b"{}", {})
    missing = sender.post("https://no-such-host.invalid/hook", b"{}", {})
    assert resolved.status is None and missing.status is None
    assert address not in (resolved.error or "")
    assert resolved.error == missing.error
