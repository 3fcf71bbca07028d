from typer.testing import CliRunner

from hazardloop.runtime.settings import CommonSettings
from hazardloop.tools.cli import cli
from hazardloop.web.auth import Authenticator, Role


def test_token_command_mints_a_token_the_services_accept(tmp_path, monkeypatch):
    monkeypatch.setenv("HAZARDLOOP_STATE_DIR", str(tmp_path))
    settings = CommonSettings(state_dir=tmp_path)
    settings.secret("jwt")  # the key the services generated on their first start
    result = CliRunner().invoke(cli, ["token", "--user", "emp-1", "--tenant", "refinery", "--role", "reporter"])
    assert result.exit_code == 0, result.output
    principal = Authenticator(settings.secret("jwt"), settings.tenants).verify(result.stdout.strip())
    assert principal.subject == "emp-1" and principal.roles == {Role.REPORTER}


def test_token_command_refuses_unknown_roles_and_tenants(tmp_path, monkeypatch):
    monkeypatch.setenv("HAZARDLOOP_STATE_DIR", str(tmp_path))
    CommonSettings(state_dir=tmp_path).secret("jwt")
    runner = CliRunner()
    assert runner.invoke(cli, ["token", "--user", "u", "--tenant", "refinery", "--role", "king"]).exit_code != 0
    assert runner.invoke(cli, ["token", "--user", "u", "--tenant", "atlantis", "--role", "reporter"]).exit_code != 0


def test_token_command_never_makes_up_a_key_the_services_do_not_hold(tmp_path, monkeypatch):
    """Run away from the services' state folder, it says where it looked instead of
    signing with a new key of its own (a token every service would reject)."""
    monkeypatch.delenv("HAZARDLOOP_JWT_SECRET", raising=False)
    monkeypatch.setenv("HAZARDLOOP_STATE_DIR", str(tmp_path / "elsewhere"))
    result = CliRunner().invoke(cli, ["token", "--user", "emp-1", "--tenant", "refinery", "--role", "reporter"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "HAZARDLOOP_JWT_SECRET" in result.stderr and str(tmp_path / "elsewhere") in result.stderr
    assert not (tmp_path / "elsewhere").exists()


def test_published_contracts_are_current():
    result = CliRunner().invoke(cli, ["schemas", "--check"])
    assert result.exit_code == 0, result.output
