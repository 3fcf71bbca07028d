"""What a person may do follows from the identity provider's claims, however it writes them."""

import pytest

from hazardloop.runtime.settings import CommonSettings
from hazardloop.web.auth import Role
from hazardloop.web.oidc import claim_values, principal_from_claims

SUBSIDIARIES = ["refinery", "mine", "steelmill"]


def principal(claims: dict, **names):
    return principal_from_claims(
        {"sub": "safety-officer-li", **claims},
        tenants_claim=names.get("tenants_claim", "tenants"),
        roles_claim=names.get("roles_claim", "roles"),
        subsidiaries=SUBSIDIARIES,
    )


@pytest.mark.parametrize(
    "value", [["refinery", "mine"], "refinery mine", "refinery,mine", " refinery, mine ", ["refinery", " mine", ""]]
)
def test_a_claim_may_be_a_list_or_a_space_or_comma_separated_string(value):
    assert claim_values({"tenants": value}, "tenants") == ["refinery", "mine"]


def test_a_missing_claim_is_empty_and_a_malformed_one_refused():
    assert claim_values({}, "roles") == []
    with pytest.raises(ValueError, match="'roles'"):
        claim_values({"roles": {"verifier": True}}, "roles")
    with pytest.raises(ValueError, match="'roles'"):
        claim_values({"roles": ["verifier", 7]}, "roles")


def test_a_dotted_claim_name_reaches_into_nested_roles_unless_a_claim_has_that_very_name():
    nested = {"realm_access": {"roles": ["verifier", "offline_access"]}}
    assert claim_values(nested, "realm_access.roles") == ["verifier", "offline_access"]
    assert claim_values({"https://group.example/roles": "manager"}, "https://group.example/roles") == ["manager"]


def test_the_principal_carries_subject_name_subsidiaries_and_roles():
    li = principal({"name": "李安全", "tenants": "refinery", "roles": ["verifier"]})
    assert li.subject == "safety-officer-li" and li.name == "李安全"
    assert li.may_access("refinery") and not li.may_access("mine")
    assert li.roles == {Role.VERIFIER}


def test_roles_this_system_does_not_have_are_left_out_not_refused():
    assert principal({"tenants": ["refinery"], "roles": "verifier wiki-editor vpn"}).roles == {Role.VERIFIER}


def test_a_subsidiary_the_group_does_not_have_is_refused():
    with pytest.raises(ValueError, match="atlantis"):
        principal({"tenants": ["refinery", "atlantis"], "roles": ["verifier"]})


def test_group_headquarters_reaches_every_subsidiary():
    assert all(principal({"tenants": "*", "roles": "auditor"}).may_access(t) for t in SUBSIDIARIES)


def test_the_display_name_falls_back_to_the_login_name_and_is_optional():
    assert principal({"preferred_username": "li.an", "tenants": "refinery"}).name == "li.an"
    assert principal({"tenants": "refinery"}).name is None


def test_claim_names_are_configurable():
    claims = {"groups": ["mine"], "app_roles": "rectifier"}
    person = principal(claims, tenants_claim="groups", roles_claim="app_roles")
    assert person.may_access("mine") and person.roles == {Role.RECTIFIER}


def test_settings_leave_oidc_off_unless_an_issuer_is_set(monkeypatch):
    for name in ("HAZARDLOOP_OIDC_ISSUER", "HAZARDLOOP_OIDC_AUDIENCE", "HAZARDLOOP_SECRETS_DIR"):
        monkeypatch.delenv(name, raising=False)
    assert CommonSettings().oidc_issuer is None
    monkeypatch.setenv("HAZARDLOOP_OIDC_ISSUER", "https://id.group.example/realms/staff")
    monkeypatch.setenv("HAZARDLOOP_OIDC_CLIENT_SECRET", "s3cret")
    settings = CommonSettings()
    assert settings.oidc_issuer == "https://id.group.example/realms/staff"
    assert settings.oidc_audience == "hazardloop-api" and settings.oidc_scopes == "openid profile"
    assert "s3cret" not in repr(settings)


def test_an_issuer_that_is_no_url_is_refused_naming_the_setting(monkeypatch):
    monkeypatch.setenv("HAZARDLOOP_OIDC_ISSUER", "id.group.example")
    with pytest.raises(ValueError, match="oidc_issuer"):
        CommonSettings()
