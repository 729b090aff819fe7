"""The MAM client against the sandbox over real HTTP: every endpoint and every fault."""

import time

import pytest

from mamdl.config import load_settings
from mamdl.errors import MalformedResponse, NotFound, RateLimited, ServerError, SessionExpired
from mamdl.mam.client import MamClient
from mamdl.mam.models import SearchField, SearchRequest


@pytest.fixture
def client(sandbox_env):
    with MamClient(load_settings()) as c:
        yield c


def test_search_parses_rows_and_zero_results(client, sandbox_env):
    page = client.search(SearchRequest(text="dune", fields=[SearchField.title]))
    assert page.found >= 2 and page.results
    first = page.results[0]
    assert first.title and first.authors and first.size_bytes > 0 and first.dl
    assert client.search(SearchRequest(text="zzqqxxnothing")).results == []


def test_user_details_with_snatch_summary(client):
    user = client.user()
    assert user.username and user.snatch_summary is not None
    assert user.snatch_summary.unsat_limit > 0


def test_check_cookie(client):
    assert client.check_cookie()


def test_download_by_id_and_by_dl_hash(client, sandbox):
    r = client.search(SearchRequest(text="dune", fields=[SearchField.title])).results[0]
    by_id = client.download_torrent(r.id)
    by_dl = client.download_torrent(r.id, dl=r.dl)
    assert by_id.startswith(b"d") and by_id == by_dl
    with pytest.raises(NotFound):
        client.download_torrent(99999999)


def test_429_is_retried_honouring_retry_after(client, sandbox):
    sandbox.add_fault("status", status=429, count=2, retry_after=0.3)
    sandbox.clear_requests()
    t0 = time.monotonic()
    assert client.search(SearchRequest(text="dune")).results
    assert time.monotonic() - t0 >= 0.6
    assert [r["status"] for r in sandbox.requests()] == [429, 429, 200]


@pytest.mark.parametrize("header", ["soon", "Wed, 99 Foo 2020 25:61:00 GMT", "Mon, 01 Jan 2024 00:00:00"])
def test_odd_retry_after_header_is_survived(client, sandbox, header):
    """A Retry-After that is neither seconds nor a valid HTTP-date (or a date in the past, without
    a zone) is ignored and our own backoff applies. Sabotage caught: calling
    `parsedate_to_datetime` unguarded raises ValueError out of `search` (a bug, not the user's)."""
    sandbox.add_fault("status", status=429, count=1, retry_after=header)
    sandbox.clear_requests()
    assert client.search(SearchRequest(text="dune")).results
    assert [r["status"] for r in sandbox.requests()] == [429, 200]


def test_persistent_429_is_a_clear_error(sandbox_env, monkeypatch):
    monkeypatch.setenv("MAMDL_MAX_ATTEMPTS", "2")
    sandbox_env.add_fault("status", status=429, count=-1, retry_after=0.1)
    with MamClient(load_settings()) as c, pytest.raises(RateLimited, match="rate-limiting"):
        c.search(SearchRequest(text="dune"))


def test_5xx_retried_then_clear_error(client, sandbox, monkeypatch):
    sandbox.add_fault("status", status=503, count=1)
    assert client.search(SearchRequest(text="dune")).results
    sandbox.add_fault("status", status=502, count=-1)
    monkeypatch.setenv("MAMDL_MAX_ATTEMPTS", "3")
    with MamClient(load_settings()) as c, pytest.raises(ServerError, match="server error"):
        c.search(SearchRequest(text="dune"))


def test_slow_answer_times_out_and_retries(sandbox_env, monkeypatch):
    monkeypatch.setenv("MAMDL_REQUEST_TIMEOUT", "0.5")
    sandbox_env.add_fault("slow", delay=2, count=1)
    with MamClient(load_settings()) as c:
        assert c.search(SearchRequest(text="dune")).results


def test_dropped_connection_is_retried(client, sandbox):
    sandbox.add_fault("disconnect", count=1)
    assert client.search(SearchRequest(text="dune")).results


def test_malformed_json_is_a_clear_error(client, sandbox):
    sandbox.add_fault("malformed_json", count=1)
    with pytest.raises(MalformedResponse, match="not JSON"):
        client.search(SearchRequest(text="dune"))


def test_login_page_means_expired_session(client, sandbox):
    sandbox.add_fault("login_page", count=1)
    with pytest.raises(SessionExpired, match="mam config init"):
        client.search(SearchRequest(text="dune"))


def test_expired_session_after_n_requests(client, sandbox):
    sandbox.add_fault("expire_after", n=1)
    client.search(SearchRequest(text="dune"))
    with pytest.raises(SessionExpired) as err:
        client.user()
    assert sandbox.mam_id not in str(err.value)


def test_unknown_cookie_is_expired_session(sandbox_env, monkeypatch):
    monkeypatch.setenv("MAM_ID", "not-a-valid-cookie-123")
    with MamClient(load_settings()) as c, pytest.raises(SessionExpired):
        c.user()


def test_rotated_cookie_is_persisted_and_used_by_the_next_client(tmp_path, monkeypatch):
    from mamdl.sandbox import Sandbox

    with Sandbox(data_dir=tmp_path / "sb", rotate_every=1, grace=0) as sb:
        original = sb.mam_id
        monkeypatch.setenv("MAM_BASE_URL", sb.base_url)
        monkeypatch.setenv("MAM_ID", original)
        monkeypatch.setenv("MAMDL_MIN_INTERVAL", "0.01")
        with MamClient(load_settings()) as c:
            c.search(SearchRequest(text="dune"))
            assert c.rotations_seen == 1
        # The original value is dead now (grace=0); a fresh client must pick up the saved one.
        with MamClient(load_settings()) as c2:
            assert c2.session.current().cookie != original
            assert c2.user().username
        session_file = load_settings().paths.session_file
        assert oct(session_file.stat().st_mode & 0o777) == "0o600"
