from datetime import timedelta

import jwt
import pytest
from fastapi import HTTPException

from hazardloop.web.auth import Authenticator, Role, check_tenant

TENANTS = ["refinery", "mine"]


def test_issued_token_verifies_to_its_principal():
    auth = Authenticator(b"k" * 32, TENANTS)
    principal = auth.verify(auth.issue("u1", ["refinery"], [Role.REPORTER]))
    assert principal.subject == "u1"
    assert principal.may_access("refinery") and not principal.may_access("mine")
    assert principal.has_any(frozenset({Role.REPORTER})) and not principal.has_any(frozenset({Role.FINANCE}))


def test_group_headquarters_sees_every_tenant():
    auth = Authenticator(b"k" * 32, TENANTS)
    assert auth.verify(auth.issue("hq", ["*"], [Role.AUDITOR])).may_access("mine")


def test_no_token_reaches_a_subsidiary_the_configuration_does_not_list():
    auth = Authenticator(b"k" * 32, TENANTS)
    hq = auth.verify(auth.issue("hq", ["*"], [Role.MANAGER]))
    assert not hq.may_access("atlantis")
    with pytest.raises(HTTPException) as refused:
        check_tenant(hq, "atlantis")
    assert refused.value.status_code == 422 and refused.value.detail[0]["loc"] == ["tenant"]


@pytest.mark.parametrize(
    "token_of",
    [
        lambda a: a.issue("u1", ["refinery"], [Role.REPORTER], ttl=timedelta(seconds=-60)),  # expired
        lambda a: Authenticator(b"other" * 8, TENANTS).issue("u1", ["refinery"], [Role.REPORTER]),  # wrong key
        lambda a: jwt.encode({"sub": "u1", "tenants": ["refinery"]}, b"k" * 32, algorithm="HS256"),  # no exp/iss/aud
        lambda a: "not-a-jwt",
        lambda a: jwt.encode({"sub": "u", "tenants": ["refinery"], "roles": ["janitor"], "iss": "hazardloop",
                              "aud": "hazardloop-api", "iat": 0, "exp": 9_999_999_999}, b"k" * 32, algorithm="HS256"),
    ],
    ids=["expired", "wrong-key", "missing-claims", "garbage", "unknown-role"],
)
def test_bad_tokens_are_refused_with_401(token_of):
    auth = Authenticator(b"k" * 32, TENANTS)
    with pytest.raises(HTTPException) as refused:
        auth.verify(token_of(auth))
    assert refused.value.status_code == 401


def test_tokens_cannot_name_unknown_tenants():
    with pytest.raises(ValueError, match="unknown tenant"):
        Authenticator(b"k" * 32, TENANTS).issue("u1", ["atlantis"], [Role.REPORTER])


def test_an_absurdly_long_subject_is_refused_with_401():
    auth = Authenticator(b"k" * 32, TENANTS)
    with pytest.raises(HTTPException) as refused:
        auth.verify(auth.issue("u" * 500, ["refinery"], [Role.VERIFIER]))
    assert refused.value.status_code == 401


def test_after_a_key_rotation_tokens_are_issued_with_the_newest_and_earlier_ones_still_hold():
    old, new = b"old-jwt-secret-0123456789abcdef!", b"new-jwt-secret-0123456789abcdef!"
    earlier = Authenticator(old, ["refinery"]).issue("u1", ["refinery"], [Role.REPORTER])
    rotated = Authenticator([new, old], ["refinery"])
    assert rotated.verify(earlier).subject == "u1"
    assert Authenticator(new, ["refinery"]).verify(rotated.issue("u2", ["refinery"], [Role.REPORTER])).subject == "u2"
    with pytest.raises(HTTPException):
        Authenticator([new], ["refinery"]).verify(earlier)
