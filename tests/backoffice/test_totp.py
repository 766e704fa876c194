from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from exchange_server.backoffice import totp


def test_provisioning_uri_names_the_issuer_and_account() -> None:
    secret = totp.new_secret()
    uri = urlsplit(totp.provisioning_uri(secret, "ann@example.com"))
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert "ann%40example.com" in uri.path or "ann@example.com" in uri.path
    query = parse_qs(uri.query)
    assert query["secret"] == [secret]
    assert query["issuer"] == ["Trading Workstation"]


def test_codes_are_valid_for_the_neighbouring_steps_only() -> None:
    secret = totp.new_secret()
    now = time.time()
    step = int(now // 30)
    assert totp.matching_step(secret, totp.current_code(secret, now), now) == step
    assert totp.matching_step(secret, totp.current_code(secret, now - 30), now) == step - 1
    assert totp.matching_step(secret, totp.current_code(secret, now - 90), now) is None
    assert totp.matching_step(totp.new_secret(), totp.current_code(secret, now), now) is None


def test_recovery_codes_are_distinct_and_forgiving_to_type() -> None:
    codes = totp.new_recovery_codes()
    assert len(codes) == len(set(codes)) == 10
    code = codes[0]
    typed = " " + code.upper().replace("-", " - ") + " "
    assert totp.recovery_code_hash(5, typed) == totp.recovery_code_hash(5, code)
    assert totp.recovery_code_hash(6, code) != totp.recovery_code_hash(5, code)
