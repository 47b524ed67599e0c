"""Cursors are opaque and refuse what the list did not give out."""

import uuid

import pytest

from shared.pagination import InvalidCursor, decode_cursor, encode_cursor


def test_a_cursor_round_trips():
    key = uuid.uuid4()

    assert decode_cursor(encode_cursor(key), uuid.UUID) == key
    assert decode_cursor(encode_cursor("after-sales"), str) == "after-sales"


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", encode_cursor("not-a-uuid"), "e30"])
def test_a_foreign_cursor_is_refused(cursor):
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, uuid.UUID)
