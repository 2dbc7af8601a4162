"""Money: exact parsing of every way banks write amounts (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashtam.core.result import Failure, Success
from dashtam.domain.money import AMOUNT_SCALE, MAX_ABS_AMOUNT, parse_amount, parse_currency
from dashtam.presentation.decimals import amount_text

LIMIT = MAX_ABS_AMOUNT - Decimal("0.0001")


@st.composite
def amounts(draw: st.DrawFn, *, min_places: int = 0, max_places: int = 4) -> Decimal:
    """A Decimal with ``places`` decimal digits, written exactly as given (trailing zeros kept)."""
    places = draw(st.integers(min_places, max_places))
    scale = 10**places
    units = draw(st.integers(-int(LIMIT * scale), int(LIMIT * scale)))
    return Decimal(units).scaleb(-places)


def us_style(value: Decimal) -> str:
    places = -int(value.as_tuple().exponent)
    return f"{value:,.{places}f}"


def eu_style(value: Decimal) -> str:
    return us_style(value).replace(",", "\0").replace(".", ",").replace("\0", ".")


def parsed(text: str, **kwargs: str) -> Decimal:
    result = parse_amount(text, **kwargs)
    assert isinstance(result, Success), (text, result)
    return result.value


@given(amounts())
def test_us_style_round_trips(value: Decimal) -> None:
    text = us_style(value)
    assert parsed(text) == value
    assert parsed(text, decimal_separator=".") == value
    assert parsed(f"  {text}\u00a0") == value


@given(amounts())
def test_eu_style_round_trips_with_the_separator_given(value: Decimal) -> None:
    assert parsed(eu_style(value), decimal_separator=",") == value


@given(amounts(min_places=1, max_places=2))
def test_eu_style_is_inferred_from_one_or_two_decimals(value: Decimal) -> None:
    assert parsed(eu_style(value)) == value


@given(amounts(min_places=1).filter(lambda v: abs(v) >= 1000))
def test_eu_style_with_thousands_is_inferred_at_any_precision(value: Decimal) -> None:
    assert parsed(eu_style(value)) == value


@given(amounts())
def test_parentheses_and_trailing_minus_are_negative(value: Decimal) -> None:
    magnitude = abs(value)
    assert parsed(f"({us_style(magnitude)})") == -magnitude
    assert parsed(f"{us_style(magnitude)}-") == -magnitude
    assert parsed(f"({eu_style(magnitude)})", decimal_separator=",") == -magnitude
    assert parsed(f"+{us_style(magnitude)}") == magnitude


@given(amounts())
def test_the_value_is_exact_and_keeps_its_scale(value: Decimal) -> None:
    result = parsed(str(value))
    assert result == value
    assert result.as_tuple() == value.as_tuple()
    assert result.quantize(Decimal(1).scaleb(-AMOUNT_SCALE)) == value  # exact at storage scale


@given(
    st.integers(1, 10**12),
    st.integers(5, 9).flatmap(lambda p: st.tuples(st.just(p), st.integers(1, 10**p - 1))),
)
def test_more_than_four_places_is_refused(whole: int, fraction: tuple[int, int]) -> None:
    places, digits = fraction
    text = f"{whole}.{digits:0{places}d}"
    result = parse_amount(text, decimal_separator=".")
    assert isinstance(result, Failure)
    assert result.error.code == "invalid_amount"
    assert "decimal places" in result.error.message


@given(st.decimals(allow_nan=False, allow_infinity=False, places=2), st.integers(-20, 20))
def test_exponent_notation_is_refused(mantissa: Decimal, exponent: int) -> None:
    for text in (f"{mantissa}e{exponent}", f"{mantissa}E{exponent:+d}"):
        result = parse_amount(text)
        assert isinstance(result, Failure), text
        assert result.error.code == "invalid_amount"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "-",
        "()",
        "abc",
        "12abc",
        "NaN",
        "Infinity",
        "-inf",
        "1.2.3",
        "1..2",
        "1-2",
        "$",
        "0x1F",
        "1_000",
        "1,000,000,000,000,000.00",  # above MAX_ABS_AMOUNT
    ],
)
def test_garbage_is_refused(text: str) -> None:
    result = parse_amount(text)
    assert isinstance(result, Failure), (text, result)
    assert result.error.code == "invalid_amount"


@pytest.mark.parametrize("text", ["--1", "+-1", "-12.00-", "(+-5)"])
def test_two_signs_are_refused(text: str) -> None:
    assert isinstance(parse_amount(text), Failure), (text, parse_amount(text))


@given(st.text(alphabet=st.characters(categories=["L", "P", "S"], exclude_characters="-+(),.'")))
def test_text_without_digits_is_never_an_amount(text: str) -> None:
    assert isinstance(parse_amount(text), Failure)


def test_parse_currency() -> None:
    assert parse_currency(" usd ") == Success("USD")
    assert parse_currency("EUR") == Success("EUR")
    for bad in ("", "US", "USDD", "ABC", "€"):
        result = parse_currency(bad)
        assert isinstance(result, Failure)
        assert result.error.code == "invalid_currency"


@given(amounts())
def test_amount_text_is_plain_and_parses_back(value: Decimal) -> None:
    text = amount_text(value)
    assert "e" not in text.lower()
    _whole, _, fraction = text.partition(".")
    assert 2 <= len(fraction) <= 4, text
    assert parsed(text) == value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("-45.6700"), "-45.67"),
        (Decimal("1E+3"), "1000.00"),
        (Decimal("0E-4"), "0.00"),
        (Decimal("0.0001"), "0.0001"),
        (Decimal("12.5"), "12.50"),
        (Decimal("99999999999.9999"), "99999999999.9999"),
        (Decimal("100000000000000"), "100000000000000.00"),
    ],
)
def test_amount_text_examples(value: Decimal, text: str) -> None:
    assert amount_text(value) == text


def test_every_accepted_amount_fits_both_databases() -> None:
    # SQLite stores 1/10,000ths in a signed 64-bit integer; PostgreSQL NUMERIC(20, 4).
    largest = parsed("99,999,999,999,999.9999")
    assert largest == MAX_ABS_AMOUNT - Decimal("0.0001")
    assert int(largest * 10_000) < 2**63
    assert len(str(int(largest))) <= 20 - 4


@pytest.mark.parametrize("text", ["100000000000000", "922337203685477.5808", "-1e15"])
def test_amounts_beyond_the_limit_are_refused(text: str) -> None:
    result = parse_amount(text.replace("-1e15", "-1000000000000000"))
    assert isinstance(result, Failure)
    assert result.error.code == "invalid_amount"


@given(
    st.text(alphabet="0123456789.,+-", min_size=1, max_size=20)
    | st.from_regex(r"[+-]?[0-9]{1,16}(\.[0-9]{0,6})?", fullmatch=True),
    st.sampled_from([None, ".", ","]),
)
def test_the_common_form_reads_as_the_general_path_reads_it(
    raw: str, separator: str | None
) -> None:
    # A trailing space sends the same text down the general path (it strips first).
    quick, general = (parse_amount(text, decimal_separator=separator) for text in (raw, raw + " "))
    match quick, general:
        case Success(one), Success(other):
            assert str(one) == str(other)  # the same digits and sign, "-0" included
        case Failure(one), Failure(other):
            assert one.code == other.code
        case _:
            pytest.fail(f"{raw!r}: {quick} against {general}")
