"""`mam doctor` compares MAM's `connectable` with the port mamdl listens on."""

import json


def test_doctor_warns_when_mam_reports_not_connectable(sandbox_env, mam, isolated_home):
    """Sabotage: drop the connectable check from `doctor` and the warning is gone."""
    checks = {c["name"]: c for c in json.loads(mam("doctor", "--json").stdout)}
    assert checks["connectable"]["status"] == "ok"
    sandbox_env.set_user(connectable="no")
    p = mam("doctor", "--json")
    assert p.returncode == 0, p.stdout + p.stderr  # a warning, not a failure
    checks = {c["name"]: c for c in json.loads(p.stdout)}
    assert checks["connectable"]["status"] == "warn" and "NOT connectable" in checks["connectable"]["detail"]
    assert "Forward TCP" in checks["connectable"]["fix"]
