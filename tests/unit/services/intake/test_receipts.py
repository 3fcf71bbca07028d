import re

from hazardloop.privacy.receipts import receipt_digest
from hazardloop_intake.receipts import ReceiptCodes

KEY = "4f1c0d9e8b7a6c5d4e3f2a1b0c9d8e7f"


def test_codes_are_long_stable_per_filing_and_need_the_clients_idempotency_key():
    codes = ReceiptCodes(b"k" * 32)
    code = codes.code_for("refinery", "r-1", KEY)
    assert re.fullmatch(r"[A-Z2-7]{5}(-[A-Z2-7]{5}){4}", code)  # 125 bits
    assert codes.code_for("refinery", "r-1", KEY) == code  # a retried filing shows the same code
    assert codes.code_for("refinery", "r-2", KEY) != code
    assert codes.code_for("mine", "r-1", KEY) != code
    assert ReceiptCodes(b"j" * 32).code_for("refinery", "r-1", KEY) != code
    # Whoever holds the server key and the report id, but not the client's key, gets another code.
    assert codes.code_for("refinery", "r-1", KEY[:-1] + "0") != code


def test_a_code_typed_loosely_still_matches_only_its_digest():
    code = ReceiptCodes(b"k" * 32).code_for("refinery", "r-1", KEY)
    digest = receipt_digest(code)
    assert re.fullmatch(r"[0-9a-f]{64}", digest) and code not in digest
    assert receipt_digest(code.lower().replace("-", " ")) == digest
    assert receipt_digest(code[:-1] + ("A" if code[-1] != "A" else "B")) != digest


def test_after_a_rotation_new_codes_come_from_the_newest_key_and_a_retry_gets_the_code_on_record():
    old, new = b"o" * 32, b"n" * 32
    before = ReceiptCodes([old]).code_for("refinery", "r-1", KEY)
    rotated = ReceiptCodes([new, old])
    assert rotated.code_for("refinery", "r-2", KEY) == ReceiptCodes([new]).code_for("refinery", "r-2", KEY)
    assert rotated.code_for("refinery", "r-1", KEY, recorded_digest=receipt_digest(before)) == before
