"""Properties of the key format itself: issued keys check out, near misses never do."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tenants.keyformat import BODY_LENGTH, generate, is_well_formed
from tests.keymutations import header_safe_text, near_misses

PREFIX = "lw"


@settings(max_examples=300, derandomize=True)
@given(st.data())
def test_every_generated_key_is_well_formed_and_no_near_miss_is(data):
    key = generate(PREFIX).full_key
    assert len(key) == len("lw_live_") + BODY_LENGTH
    assert is_well_formed(key, PREFIX)
    mangled = data.draw(near_misses(key))
    assert mangled != key
    assert not is_well_formed(mangled, PREFIX)


@settings(max_examples=500, derandomize=True)
@given(header_safe_text(max_size=120))
def test_random_text_is_not_a_key(candidate):
    assert not is_well_formed(candidate, PREFIX)


@settings(max_examples=100, derandomize=True)
@given(st.sampled_from(["lw", "acme", "x1"]))
def test_keys_of_one_prefix_are_refused_under_another(prefix):
    key = generate(prefix).full_key
    assert is_well_formed(key, prefix)
    assert not is_well_formed(key, "other")
