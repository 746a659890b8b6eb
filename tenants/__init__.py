"""The tenant-scoped key store: models, key issuing and verifying, scopes, licenses, audit, usage.

Nothing here knows about HTTP requests; the ``api`` and ``console`` blueprints and the CLI call it.
"""
