"""The shortcuts for what nearly every CSV row holds read it as the general path does."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from dashtam.infrastructure.importers.csv_ids import normalise_description
from dashtam.infrastructure.importers.csv_values import read_amount

_AMOUNTS = st.text(alphabet="0123456789.,+-$ ", min_size=1, max_size=18) | st.from_regex(
    r"[+-]?[0-9]{1,16}(\.[0-9]{0,6})?", fullmatch=True
)


@given(_AMOUNTS, st.sampled_from([None, ".", ","]))
def test_an_amount_in_its_common_form_reads_as_the_general_path_reads_it(
    text: str, separator: str | None
) -> None:
    # A trailing space is cleaned away by the general path, and keeps the shortcut out.
    quick, general = read_amount(text, separator), read_amount(text + " ", separator)
    assert (str(quick[0]), quick[0] is None) == (str(general[0]), general[0] is None)


@given(st.text(max_size=30) | st.text(alphabet="AbC  \t\u00a0ﬁÉé", max_size=30))
def test_a_description_normalises_as_nfkc_casefold_and_collapsed_spaces(text: str) -> None:
    expected = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    assert normalise_description(text) == expected
