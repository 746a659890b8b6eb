import re
import zlib

import pytest

from tenants import keyformat


def test_issued_keys_have_the_spec_shape_and_checksum():
    for _ in range(200):
        new = keyformat.generate("lw")
        assert re.fullmatch(r"lw_live_[0-9A-Za-z]{32}", new.full_key)
        head, tail = new.full_key[:-6], new.full_key[-6:]
        number = 0
        for char in tail:
            number = number * 62 + keyformat.BASE62.index(char)
        assert number == zlib.crc32(head.encode())
        assert new.display_start == new.full_key[:12]
        assert new.last4 == new.full_key[-4:]
        assert keyformat.is_well_formed(new.full_key, "lw")


def test_configured_prefix_is_used_and_required():
    new = keyformat.generate("acme")
    assert new.full_key.startswith("acme_live_")
    assert keyformat.is_well_formed(new.full_key, "acme")
    assert not keyformat.is_well_formed(new.full_key, "lw")


def test_keys_are_unique_and_random():
    keys = {keyformat.generate("lw").full_key for _ in range(2000)}
    assert len(keys) == 2000


@pytest.mark.parametrize("mode", ["live", "test"])
def test_key_shaped_text_is_redacted_whole_and_the_rest_kept(mode):
    key = keyformat.generate("lw").full_key.replace("_live_", f"_{mode}_")
    text = f"GET /api/v1/health/{key}?scope={key[:-3]}&other=1"
    redacted = keyformat.redact_keys(text)
    assert redacted == "GET /api/v1/health/[redacted key]?scope=[redacted key]&other=1"
    assert keyformat.redact_keys("Unknown scope: contacts:rea") == "Unknown scope: contacts:rea"
