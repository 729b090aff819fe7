"""`mam doctor` and `mam seedbox-ip` against the sandbox: every documented answer."""

import json


def test_doctor_all_ok_then_reports_an_expired_session(sandbox_env, mam, isolated_home):
    p = mam("doctor", "--json")
    assert p.returncode == 0, p.stdout + p.stderr
    checks = {c["name"]: c for c in json.loads(p.stdout)}
    assert {"files", "session", "clock", "unsatisfied", "client identity", "listen port"} <= set(checks)
    assert checks["session"]["status"] == "ok" and checks["clock"]["status"] == "ok"
    assert "-LT" in checks["client identity"]["detail"]
    sandbox_env.new_session()  # the user made a new cookie elsewhere: ours is dead
    p = mam("doctor")
    assert p.returncode == 1 and "FAIL" in p.stdout
    checks = {c["name"]: c for c in json.loads(mam("doctor", "--json").stdout)}
    assert checks["session"]["status"] == "fail" and "mam config init" in checks["session"]["fix"]


def test_doctor_flags_private_files_left_open(sandbox_env, mam, isolated_home):
    cfg = isolated_home / "config.toml"
    cfg.write_text("seed_ratio = 1.0\n")
    cfg.chmod(0o644)
    checks = {c["name"]: c for c in json.loads(mam("doctor", "--json").stdout)}
    assert checks["files"]["status"] == "fail" and "config.toml" in checks["files"]["detail"]


def test_seedbox_answers_and_hourly_limit(sandbox_env, mam):
    first = json.loads(mam("seedbox-ip", "--json").stdout)
    assert first["called"] and first["success"] and first["ip"] == "127.0.0.1"
    second = mam("seedbox-ip", "--json")
    body = json.loads(second.stdout)
    assert second.returncode == 0 and body["called"] is False and body["next_allowed_in_seconds"] > 3000
    n = len(sandbox_env.requests())
    mam("seedbox-ip")
    assert len(sandbox_env.requests()) == n  # the local hourly limit: MAM is not asked again


def test_seedbox_no_change_too_recent_and_wrong_session(sandbox_env, mam, isolated_home):
    from mamdl.config import load_settings
    from mamdl.mam.client import MamClient

    with MamClient(load_settings()) as c:
        assert c.seedbox_update().msg == "Completed"
        assert c.seedbox_update().msg == "No change"
        sandbox_env.set_user(seedbox_ip="10.9.9.9")  # as if the IP changed on MAM's side a minute ago
        too_soon = c.seedbox_update()
        assert too_soon.status == 429 and "too recent" in too_soon.msg.lower()
    sandbox_env.set_user(seedbox_allowed=False)
    p = mam("seedbox-ip")
    assert p.returncode == 1 and "dynamic seedbox" in p.stdout
