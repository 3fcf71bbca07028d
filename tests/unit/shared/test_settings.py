from hazardloop.privacy.keyring import load_or_create_secret
from hazardloop.runtime.settings import CommonSettings


def test_dev_secret_is_created_once_and_reused(tmp_path):
    first = load_or_create_secret(tmp_path / "secrets" / "jwt.key")
    assert len(first) >= 32
    assert load_or_create_secret(tmp_path / "secrets" / "jwt.key") == first
    assert (tmp_path / "secrets" / "jwt.key").stat().st_mode & 0o077 == 0


def test_configured_secret_wins_over_the_state_folder(tmp_path):
    assert CommonSettings(state_dir=tmp_path, jwt_secret="configured").secret("jwt") == b"configured"


def test_tenants_and_nats_url_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HAZARDLOOP_TENANTS", "alpha, beta")
    monkeypatch.setenv("NATS_URL", "nats://10.0.0.1:4222")
    settings = CommonSettings(state_dir=tmp_path)
    assert settings.tenants == ["alpha", "beta"]
    assert settings.nats_url == "nats://10.0.0.1:4222"


def test_a_cluster_is_reached_through_a_comma_separated_nats_url(tmp_path):
    settings = CommonSettings(state_dir=tmp_path, nats_url="nats://a:4222, nats://b:4222,nats://c:4222")
    assert settings.nats_servers == ["nats://a:4222", "nats://b:4222", "nats://c:4222"]
