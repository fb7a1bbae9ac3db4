"""Canonical JSON: the fast path for plain documents is byte for byte RFC 8785."""

from __future__ import annotations

from typing import Any

import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from tenor.audit.log import canonical

SAFE = 2**53 - 1

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-SAFE, SAFE)
    | st.text()
    | st.text(st.characters(max_codepoint=0x3F))
    | st.floats(allow_nan=False, allow_infinity=False)
)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6) | st.sampled_from(["a", "B", "_", "€", "😀"]), inner)
    ),
    max_leaves=20,
)


@given(documents)
def test_canonical_is_rfc8785(document: Any) -> None:
    assert canonical(document) == rfc8785.dumps(document)


def test_control_characters_and_non_ascii_text_as_rfc8785_writes_them() -> None:
    document = {"b": '\u0000\u001f\b\f\n\r\t"\\\u007f€😀\u2028', "a": [1, -(2**53 - 1), None]}
    assert canonical(document) == rfc8785.dumps(document)
    assert canonical(document).startswith(b'{"a":[1,-9007199254740991,null],"b":"\\u0000\\u001f')
