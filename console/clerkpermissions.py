"""Organization permissions of a Clerk v2 session token (SPEC §9.3).

Clerk's v2 tokens do not list permission names; they carry three compact claims
(Clerk's session-token documentation, "Decode o.fpm manually"):

- ``fea``: the enabled features, comma-separated, each with its scope: ``o:`` organization,
  ``u:`` user, ``uo:`` both (``"o:api_keys,u:profile,o:webhooks"``);
- ``o.per``: the permission names used, comma-separated (``"manage,read"``);
- ``o.fpm``: one decimal integer per *organization* feature of ``fea``, in order,
  comma-separated (``"3,2"``): a bitmask whose least significant bit stands for the first
  name of ``o.per``, the next bit for the second, and so on.

So ``fea="o:api_keys,o:webhooks"``, ``per="manage,read"``, ``fpm="3,1"`` grants
``org:api_keys:manage``, ``org:api_keys:read`` and ``org:webhooks:manage``. User-only
features (``u:``) take no place in ``fpm``, as in Clerk's own parser. Anything malformed
grants nothing rather than failing the sign-in: a permission is only ever added by a bit set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MAX_MASK_DIGITS = 64  # far beyond any real mask; keeps int() parsing of claims cheap


def v2_permissions(fea: Any, per: Any, fpm: Any) -> frozenset[str]:
    if not all(isinstance(claim, str) for claim in (fea, per, fpm)):
        return frozenset()
    features = _organization_features(fea)
    names = [name.strip() for name in per.split(",")]
    granted: set[str] = set()
    for feature, mask_text in zip(features, fpm.split(","), strict=False):
        mask = _mask(mask_text.strip())
        for position, name in enumerate(names):
            if name and mask >> position & 1:
                granted.add(f"org:{feature}:{name}")
    return frozenset(granted)


def _organization_features(fea: str) -> list[str]:
    """The features of ``fea`` whose scope includes the organization (``o``, ``uo``)."""
    features = []
    for entry in fea.split(","):
        scope, _, feature = entry.strip().partition(":")
        if "o" in scope and feature:
            features.append(feature)
    return features


def _mask(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > MAX_MASK_DIGITS:
        return 0
    return int(text)


def v2_claims(permissions: Sequence[str]) -> tuple[str, str, str]:
    """``(fea, o.per, o.fpm)`` granting exactly ``permissions`` (``org:<feature>:<name>``):
    the inverse of ``v2_permissions``, for the development sign-in's tokens."""
    pairs = [permission.split(":")[1:] for permission in permissions]
    features = sorted({feature for feature, _ in pairs})
    names = sorted({name for _, name in pairs})
    masks = [
        sum(1 << names.index(name) for feature, name in pairs if feature == wanted)
        for wanted in features
    ]
    return (
        ",".join(f"o:{feature}" for feature in features),
        ",".join(names),
        ",".join(str(mask) for mask in masks),
    )
