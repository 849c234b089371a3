"""Alert channel settings: flags, then STADTPULS_* variables, secrets from *_FILE; the
service refuses recipients whose channel is not configured."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest
from alert_helpers import catalogue

from alerts.service import channels_for
from stadtpuls import settings as st


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    st.add_alert_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("STADTPULS_"):
            monkeypatch.delenv(name)


def test_channels_from_environment_and_secret_files(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "smtp").write_text("mail-pw\n")
    (tmp_path / "hook").write_text("hook-secret\n")
    monkeypatch.setenv("STADTPULS_SMTP_HOST", "mail.example.org")
    monkeypatch.setenv("STADTPULS_SMTP_USERNAME", "stadtpuls")
    monkeypatch.setenv("STADTPULS_SMTP_PASSWORD_FILE", str(tmp_path / "smtp"))
    monkeypatch.setenv("STADTPULS_ALERTS_WEBHOOK_URL", "https://hooks.example.org/x")
    monkeypatch.setenv("STADTPULS_ALERTS_WEBHOOK_SECRET_FILE", str(tmp_path / "hook"))
    monkeypatch.setenv("STADTPULS_SMTP_PORT", "2525")
    s = st.alert_settings(_args("--smtp-port", "465", "--smtp-security", "tls"))
    assert s.smtp is not None
    assert (s.smtp.host, s.smtp.port, s.smtp.security, s.smtp.password) == (
        "mail.example.org", 465, "tls", "mail-pw")
    assert (s.webhook_url, s.webhook_secret, s.interval_s) == (
        "https://hooks.example.org/x", "hook-secret", 30.0)


@pytest.mark.parametrize(("env", "message"), [
    ({"STADTPULS_ALERTS_INTERVAL": "soon"}, "STADTPULS_ALERTS_INTERVAL"),
    ({"STADTPULS_SMTP_HOST": "m", "STADTPULS_SMTP_SECURITY": "ssl"}, "STADTPULS_SMTP_SECURITY"),
    ({"STADTPULS_SMTP_HOST": "m", "STADTPULS_SMTP_PASSWORD": "x"}, "STADTPULS_SMTP_USERNAME"),
    ({"STADTPULS_SMTP_HOST": "m", "STADTPULS_SMTP_USERNAME": "u", "STADTPULS_SMTP_PASSWORD": "x",
      "STADTPULS_SMTP_SECURITY": "none"}, "unencrypted"),
    ({"STADTPULS_ALERTS_WEBHOOK_URL": "https://h"}, "STADTPULS_ALERTS_WEBHOOK_SECRET_FILE"),
    ({"STADTPULS_ALERTS_WEBHOOK_URL": "ftp://h", "STADTPULS_ALERTS_WEBHOOK_SECRET": "s"},
     "STADTPULS_ALERTS_WEBHOOK_URL"),
    ({"STADTPULS_DASHBOARD_URL": "dash.example"}, "STADTPULS_DASHBOARD_URL"),
])
def test_bad_alert_settings_name_the_setting(env: dict[str, str], message: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(st.SettingsError, match=message):
        st.alert_settings(_args())


def test_a_recipient_without_its_channel_is_refused() -> None:
    cat = catalogue({"recipients": [{"id": "ops", "email": "ops@example.org"}]})
    with pytest.raises(st.SettingsError, match="recipient 'ops' needs the email channel"):
        channels_for(cat, st.alert_settings(_args()))
    assert set(channels_for(cat, st.alert_settings(_args("--smtp-host", "m")))) == {"email"}
