"""Hypothesis strategies for API keys and their near misses, shared by the property tests."""

from __future__ import annotations

from hypothesis import strategies as st

from tenants.keyformat import BASE62

WHITESPACE = [" ", "\t", "\u00a0", "\u2003", "\u200b", "\u3000", "\ufeff"]
LOOKALIKES = ["\u0430", "\u041e", "\uff10", "\uff21", "\u0131", "\u00e9", "\U0001f511", "l\u0307"]
REPLACEMENTS = BASE62 + "_-.+/="
PREFIXES = ["lw_test_", "LW_live_", "lw_LIVE_", "lx_live_", "lw-live-", "lw_live", "lwlive_", ""]


@st.composite
def one_char_changed(draw, key: str) -> str:
    # Drawn as an offset into the alphabet, not filtered against the key: the draws must not
    # depend on the (randomly generated) key, or Hypothesis sees a flaky strategy.
    index = draw(st.integers(0, len(key) - 1))
    offset = draw(st.integers(1, len(REPLACEMENTS) - 1))
    replacement = REPLACEMENTS[(REPLACEMENTS.find(key[index]) + offset) % len(REPLACEMENTS)]
    return key[:index] + replacement + key[index + 1 :]


@st.composite
def truncated(draw, key: str) -> str:
    return key[: draw(st.integers(0, len(key) - 1))]


@st.composite
def extended(draw, key: str) -> str:
    return key + draw(st.text(st.sampled_from(BASE62), min_size=1, max_size=8))


@st.composite
def prefix_changed(draw, key: str) -> str:
    return draw(st.sampled_from(PREFIXES)) + key[len("lw_live_") :]


@st.composite
def unicode_inserted(draw, key: str) -> str:
    index = draw(st.integers(0, len(key) - 1))
    char = draw(st.sampled_from(LOOKALIKES) | st.characters(min_codepoint=128))
    replace = draw(st.booleans())
    return key[:index] + char + key[index + int(replace) :]


@st.composite
def whitespace_inserted(draw, key: str) -> str:
    index = draw(st.integers(0, len(key)))
    return key[:index] + draw(st.sampled_from(WHITESPACE)) + key[index:]


def near_misses(key: str) -> st.SearchStrategy[str]:
    """Every way a real key gets mangled on its way to us: none of them may pass."""
    return st.one_of(
        one_char_changed(key),
        truncated(key),
        extended(key),
        prefix_changed(key),
        unicode_inserted(key),
        whitespace_inserted(key),
        st.just(key.upper()),
        st.just(key.lower()),
    )


def header_safe_text(max_size: int = 200) -> st.SearchStrategy[str]:
    """Arbitrary text a client can put in a header value (HTTP forbids CR, LF and NUL)."""
    return st.text(
        st.characters(blacklist_characters="\r\n\x00", blacklist_categories=("Cs",)),
        max_size=max_size,
    )
