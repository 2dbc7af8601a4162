"""AES-GCM credential sealing: round trips, binding to a context, tampering, rotation."""

from __future__ import annotations

import base64

import pytest

from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.protocols.credentials import CREDENTIALS_UNREADABLE, CredentialCipher
from dashtam.infrastructure.security.keys import key_id
from tests.unit.security.support import CONTEXT, NEW_KEY, OLD_KEY, SECRET_URL, cipher


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _reason(result: Result[str, Error]) -> str:
    match result:
        case Failure(error):
            assert error.code == CREDENTIALS_UNREADABLE
            return str(error.details["reason"])
        case Success(value):
            raise AssertionError(f"opened to {value!r}")


def test_a_sealed_value_opens_to_the_plaintext() -> None:
    sealer: CredentialCipher = cipher(OLD_KEY)
    sealed = sealer.seal(SECRET_URL, context=CONTEXT)
    assert sealer.open(sealed, context=CONTEXT) == Success(SECRET_URL)
    assert sealer.open(sealer.seal("", context=CONTEXT), context=CONTEXT) == Success("")
    accents = "https://zoë:pässwörd@bänk.example/ü"
    assert sealer.open(sealer.seal(accents, context="c"), context="c") == Success(accents)


def test_the_sealed_text_is_versioned_and_names_its_key() -> None:
    sealed = cipher(OLD_KEY).seal(SECRET_URL, context=CONTEXT)
    version, sealed_key_id, nonce, body = sealed.split(".")
    assert (version, sealed_key_id) == ("v1", key_id(OLD_KEY))
    assert len(_unb64(nonce)) == 12
    # Ciphertext as long as the plaintext, plus the 16-byte tag: nothing else is stored.
    assert len(_unb64(body)) == len(SECRET_URL.encode()) + 16
    assert "=" not in sealed
    assert SECRET_URL not in sealed


def test_every_seal_uses_a_fresh_nonce() -> None:
    sealer = cipher(OLD_KEY)
    sealed = [sealer.seal(SECRET_URL, context=CONTEXT) for _ in range(200)]
    assert len(set(sealed)) == 200
    assert len({value.split(".")[2] for value in sealed}) == 200


def test_a_value_copied_to_another_context_does_not_open() -> None:
    sealer = cipher(OLD_KEY)
    sealed = sealer.seal(SECRET_URL, context=CONTEXT)
    assert _reason(sealer.open(sealed, context=CONTEXT[:-1] + "2")) == "rejected"
    assert _reason(sealer.open(sealed, context="")) == "rejected"
    # A context that is not valid text cannot be the one it was sealed for.
    assert _reason(sealer.open(sealed, context="\ud800")) == "malformed"


@pytest.mark.parametrize("part", [2, 3])
def test_any_altered_byte_is_rejected(part: int) -> None:
    sealer = cipher(OLD_KEY)
    sealed = sealer.seal(SECRET_URL, context=CONTEXT)
    pieces = sealed.split(".")
    data = _unb64(pieces[part])
    for index in range(len(data)):
        altered = bytearray(data)
        altered[index] ^= 0x01
        pieces_altered = [*pieces]
        pieces_altered[part] = _b64(bytes(altered))
        result = sealer.open(".".join(pieces_altered), context=CONTEXT)
        assert _reason(result) == "rejected", index


def test_a_truncated_or_extended_body_is_rejected() -> None:
    sealer = cipher(OLD_KEY)
    head, body = sealer.seal(SECRET_URL, context=CONTEXT).rsplit(".", 1)
    data = _unb64(body)
    assert _reason(sealer.open(f"{head}.{_b64(data[:-1])}", context=CONTEXT)) == "rejected"
    assert _reason(sealer.open(f"{head}.{_b64(data + b'x')}", context=CONTEXT)) == "rejected"


def test_a_value_under_a_key_not_configured_is_unreadable() -> None:
    sealed = cipher(OLD_KEY).seal(SECRET_URL, context=CONTEXT)
    result = cipher(NEW_KEY).open(sealed, context=CONTEXT)
    assert _reason(result) == "unknown_key"
    assert isinstance(result, Failure)
    assert result.error.details["key_id"] == key_id(OLD_KEY)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "v1",
        "https://user:pass@bridge.example.org/simplefin",
        "v2.0011223344556677.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
        "v1.{kid}.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.extra",
        "v1.{kid}.!!!!.????",
        "v1.{kid}.AAAAAAAAAAAAAAAA.AAAA",  # shorter than a tag
        "v1.{kid}.AAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",  # nonce of 8 bytes
        "v1.{kid}.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAB",  # non-canonical base64
        "v1.{kid}.AAAAAAAAAAAAAAAA==.AAAAAAAAAAAAAAAAAAAAAA",
        "v1.{kid}.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA\ud800",
    ],
)
def test_garbage_is_a_failure_never_an_exception(garbage: str) -> None:
    sealer = cipher(OLD_KEY)
    result = sealer.open(garbage.replace("{kid}", key_id(OLD_KEY)), context=CONTEXT)
    assert _reason(result) == "malformed"


def test_an_old_key_still_opens_and_reseal_moves_the_value_to_the_new_key() -> None:
    sealed = cipher(OLD_KEY).seal(SECRET_URL, context=CONTEXT)
    rotating = cipher(NEW_KEY, OLD_KEY)
    assert rotating.key_ids == (key_id(NEW_KEY), key_id(OLD_KEY))
    assert rotating.open(sealed, context=CONTEXT) == Success(SECRET_URL)
    assert rotating.needs_rotation(sealed)

    resealed = rotating.reseal(sealed, context=CONTEXT)
    assert isinstance(resealed, Success)
    assert resealed.value.startswith(f"v1.{key_id(NEW_KEY)}.")
    assert not rotating.needs_rotation(resealed.value)
    # Once every value is resealed, the old key can be dropped from the setting.
    assert cipher(NEW_KEY).open(resealed.value, context=CONTEXT) == Success(SECRET_URL)
    assert _reason(cipher(OLD_KEY).open(resealed.value, context=CONTEXT)) == "unknown_key"
    # Resealing is idempotent: a value already under the current key is left as it is.
    assert rotating.reseal(resealed.value, context=CONTEXT) == Success(resealed.value)


def test_reseal_refuses_what_does_not_open() -> None:
    rotating = cipher(NEW_KEY, OLD_KEY)
    sealed = cipher(OLD_KEY).seal(SECRET_URL, context=CONTEXT)
    assert _reason(rotating.reseal(sealed, context="connection:other")) == "rejected"
    assert _reason(rotating.reseal("not sealed", context=CONTEXT)) == "malformed"
    current = rotating.seal(SECRET_URL, context=CONTEXT)
    assert _reason(rotating.reseal(current, context="connection:other")) == "rejected"


def test_needs_rotation_is_false_only_under_the_current_key() -> None:
    rotating = cipher(NEW_KEY, OLD_KEY)
    assert not rotating.needs_rotation(rotating.seal(SECRET_URL, context=CONTEXT))
    assert rotating.needs_rotation(cipher(OLD_KEY).seal(SECRET_URL, context=CONTEXT))
    # Not sealed at all (say, a value stored before encryption): due, so a rotation finds it.
    assert rotating.needs_rotation(SECRET_URL)
    assert rotating.needs_rotation("")


def test_sealing_needs_a_context_and_valid_text() -> None:
    sealer = cipher(OLD_KEY)
    with pytest.raises(ValueError, match="context"):
        sealer.seal(SECRET_URL, context="")
    with pytest.raises(ValueError, match="not valid text") as raised:
        sealer.seal("pa55\ud800word", context=CONTEXT)
    assert "pa55" not in str(raised.value)
    assert "\ud800" not in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__
