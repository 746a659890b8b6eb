"""The console API for the browser dashboard (``/console``), authenticated by session JWTs."""
