"""`./run tests` installs the system packages it lacks, or says in one line how to.

Each case runs the real `run` script with a PATH of its own: the needed coreutils and Python,
no browser or InfluxDB (so those count as missing), and fake `id`, `apt-get` and `sudo` that
only record how they were called. Mosquitto may still be found in /usr/sbin, so the cases
assert on the packages they hide, not on the whole list.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HIDDEN = ["influxdb", "chromium", "chromium-driver", "nodejs", "npm"]
REAL_TOOLS = ["bash", "true", "dirname", "mktemp", "tail", "rm", "cat", "env"]


def run_with(tmp_path: Path, *, uid: int, apt: bool = True, sudo: bool = False
             ) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in REAL_TOOLS:
        real = shutil.which(tool)
        assert real, tool
        (bindir / tool).symlink_to(real)
    # The interpreter itself, not a wrapper such as a pyenv shim that needs more of PATH.
    (bindir / "python3").symlink_to(Path(sys.executable).resolve())
    calls = tmp_path / "calls"
    fakes = {"id": f"echo {uid}"}
    if apt:
        fakes["apt-get"] = f'echo "apt-get $*" >> {calls}'
    if sudo:  # `sudo -n CMD...`: record, then run CMD
        fakes["sudo"] = f'echo "sudo $*" >> {calls}; shift; exec "$@"'
    for name, body in fakes.items():
        fake = bindir / name
        fake.write_text(f"#!/bin/sh\n{body}\n")
        fake.chmod(0o755)
    env = {"PATH": str(bindir), "HOME": str(tmp_path), "PYTHON": "python3"}
    proc = subprocess.run(["/bin/bash", str(ROOT / "run"), "tests"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    lines = calls.read_text().splitlines() if calls.exists() else []
    return proc, lines


def test_without_root_or_sudo_one_line_names_the_command(tmp_path: Path) -> None:
    proc, calls = run_with(tmp_path, uid=1000)
    assert proc.returncode == 2
    assert calls == []  # nothing was attempted
    [line] = proc.stderr.splitlines()
    prefix = "run: missing system packages; run: sudo apt-get update && sudo apt-get install -y "
    assert line.startswith(prefix), line
    assert set(HIDDEN) <= set(line.removeprefix(prefix).split()), line


def test_without_apt_one_line_names_the_packages(tmp_path: Path) -> None:
    proc, _ = run_with(tmp_path, uid=0, apt=False)
    assert proc.returncode == 2
    [line] = proc.stderr.splitlines()
    assert line.startswith("run: missing system packages (Debian names): "), line
    assert all(package in line for package in HIDDEN), line


def test_as_root_apt_get_installs_the_missing_packages(tmp_path: Path) -> None:
    proc, calls = run_with(tmp_path, uid=0)
    assert calls[0] == "apt-get update -qq"
    assert calls[1].startswith("apt-get install -y -qq --no-install-recommends ")
    assert set(HIDDEN) <= set(calls[1].split()[5:])
    # The fake installed nothing: the script checks again and stops instead of going on.
    assert proc.returncode == 2
    assert "run: still missing after apt-get install: " in proc.stderr


def test_with_passwordless_sudo_apt_get_runs_through_it(tmp_path: Path) -> None:
    proc, calls = run_with(tmp_path, uid=1000, sudo=True)
    sudo_calls = [c for c in calls if c.startswith("sudo ")]
    assert sudo_calls[0] == "sudo -n true"
    assert any(c.startswith("sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install ")
               for c in sudo_calls), calls
    assert any(c.startswith("apt-get install ") for c in calls), calls
    assert proc.returncode == 2


def test_ci_runs_exactly_the_readme_command() -> None:
    lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
             if line and not line.startswith("#")]
    assert lines[-1] == 'CI=true exec ./run tests "$@"'
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
