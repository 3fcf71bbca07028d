"""The key ring: where keys come from, what production demands, how versions are read."""

import base64
import json
import os

import pytest

from hazardloop.privacy.keyring import KeyringError
from hazardloop.runtime.settings import CommonSettings

TENANTS = ["refinery", "mine"]


def master(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_production_refuses_to_resolve_missing_keys_and_names_each_setting(tmp_path):
    settings = CommonSettings(state_dir=tmp_path, env="production", tenants=TENANTS, jwt_secret="configured-jwt-secret")
    with pytest.raises(KeyringError) as refused:
        settings.keys.require(["jwt", "pseudonym", "receipt", "form", "master"], tenants=TENANTS)
    message = str(refused.value)
    for setting in ("HAZARDLOOP_PSEUDONYM_KEY", "HAZARDLOOP_RECEIPT_KEY", "HAZARDLOOP_FORM_KEY", "'refinery'", "'mine'"):
        assert setting in message
    assert "HAZARDLOOP_JWT_SECRET" not in message
    assert not (tmp_path / "secrets").exists()  # nothing generated


def test_development_generates_each_missing_key_once_into_the_state_folder(tmp_path):
    first = CommonSettings(state_dir=tmp_path, tenants=TENANTS)
    first.keys.require(["jwt", "pseudonym", "receipt", "form", "webhook", "master"], tenants=TENANTS)
    again = CommonSettings(state_dir=tmp_path, tenants=TENANTS)
    assert again.secret("form") == first.secret("form") and again.keys.master_keys("mine") == first.keys.master_keys("mine")
    assert len(first.keys.master_keys("mine")[0]) == 32
    assert (tmp_path / "secrets").stat().st_mode & 0o777 == 0o700


def test_keys_are_read_from_files_named_like_their_setting_in_the_secrets_folder(tmp_path, monkeypatch):
    folder = tmp_path / "keys"
    folder.mkdir()
    (folder / "HAZARDLOOP_FORM_KEY").write_text("form-key-2026, form-key-2025\n")
    (folder / "HAZARDLOOP_MASTER_KEYS").write_text(json.dumps({"mine": master(b"m" * 32)}))
    monkeypatch.setenv("HAZARDLOOP_SECRETS_DIR", str(folder))
    monkeypatch.setenv("HAZARDLOOP_RECEIPT_KEY", "from-the-environment")
    settings = CommonSettings(state_dir=tmp_path / "state", env="production", tenants=TENANTS)
    assert settings.keys.versions("form") == [b"form-key-2026", b"form-key-2025"]
    assert settings.keys.master_keys("mine") == [b"m" * 32]
    assert settings.secret("receipt") == b"from-the-environment"


def test_master_keys_list_versions_newest_first_and_refuse_a_malformed_one(tmp_path):
    new, old = os.urandom(32), os.urandom(32)
    settings = CommonSettings(state_dir=tmp_path, master_keys={"mine": f"{master(new)},{master(old)}", "refinery": master(b"short")})
    assert settings.keys.master_keys("mine") == [new, old]
    with pytest.raises(KeyringError, match="32 bytes"):
        settings.keys.master_keys("refinery")


def test_a_key_that_names_things_for_good_takes_one_version_only(tmp_path):
    settings = CommonSettings(state_dir=tmp_path, pseudonym_key="one-pseudonym-key,another-pseudonym-key")
    with pytest.raises(KeyringError, match="HAZARDLOOP_PSEUDONYM_KEY takes one version only"):
        settings.secret("pseudonym")
