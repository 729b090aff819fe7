"""`mam sandbox` as a user starts it: prints what to export, serves until terminated."""

import os
import signal
import subprocess

from tests.cli.conftest import MAM, run_mam


def test_mam_sandbox_prints_env_and_serves(tmp_path):
    proc = subprocess.Popen(
        [MAM, "sandbox", "--port", "0", "--data-dir", str(tmp_path / "sb")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        env = {}
        while len(env) < 2:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            if "=" in line:
                assert line.startswith("export "), line  # lines a shell can take as they are
                k, v = line.strip().removeprefix("export ").split("=", 1)
                if k in ("MAM_BASE_URL", "MAM_ID"):
                    env[k] = v
        assert env["MAM_BASE_URL"].startswith("http://127.0.0.1:")
        p = run_mam("search", "-t", "dune", "--json", env=dict(os.environ, **env, MAMDL_MIN_INTERVAL="0.05"))
        assert p.returncode == 0 and '"Dune"' in p.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
