"""Application plumbing shared by both blueprints: config, extensions, errors, request ids."""
