import re

from hazardloop.receipts import receipt_digest
from hazardloop_intake.receipts import ReceiptCodes


def test_codes_are_long_stable_per_report_and_unguessable_without_the_key():
    codes = ReceiptCodes(b"k" * 32)
    code = codes.code_for("refinery", "r-1")
    assert re.fullmatch(r"[A-Z2-7]{5}(-[A-Z2-7]{5}){4}", code)  # 125 bits
    assert codes.code_for("refinery", "r-1") == code  # a retried filing shows the same code
    assert codes.code_for("refinery", "r-2") != code
    assert codes.code_for("mine", "r-1") != code
    assert ReceiptCodes(b"j" * 32).code_for("refinery", "r-1") != code


def test_a_code_typed_loosely_still_matches_only_its_digest():
    code = ReceiptCodes(b"k" * 32).code_for("refinery", "r-1")
    digest = receipt_digest(code)
    assert re.fullmatch(r"[0-9a-f]{64}", digest) and code not in digest
    assert receipt_digest(code.lower().replace("-", " ")) == digest
    assert receipt_digest(code[:-1] + ("A" if code[-1] != "A" else "B")) != digest


def test_after_a_rotation_new_codes_come_from_the_newest_key_and_a_retry_gets_the_code_on_record():
    old, new = b"o" * 32, b"n" * 32
    before = ReceiptCodes([old]).code_for("refinery", "r-1")
    rotated = ReceiptCodes([new, old])
    assert rotated.code_for("refinery", "r-2") == ReceiptCodes([new]).code_for("refinery", "r-2")
    assert rotated.code_for("refinery", "r-1", recorded_digest=receipt_digest(before)) == before
