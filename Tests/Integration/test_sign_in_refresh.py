"""A session refreshed with the provider's refresh token before its ID token expires, off
lighttpd's event loop: the provider's answer renews the identity, ends the session, or (when the
provider cannot be asked) leaves it in force until it ends."""
import concurrent.futures
import json
import time

import pytest
import requests

from gatehouse_testkit.sign_in import (CLIENT_ID, NAVIGATE, Browser, ScriptedTokenEndpoint, SignInSite, first_key,
                                       session_cookie, set_cookies, static_answer_times, unseal, with_token_endpoint)

API = {"Accept": "application/json", "Sec-Fetch-Site": "same-origin"}


def get(site, target, cookie, headers=API):
    return requests.get(site.url(target), headers={**headers, "Cookie": f"__Host-gatehouse={cookie}"},
                        allow_redirects=False, timeout=30)


def subject(answer):
    return dict(answer.json()["headers"]).get("X-Auth-Subject")


# --- against oidc-provider-mock's own token endpoint ----------------------------------------

def test_the_session_keeps_the_refresh_token_and_refreshes_at_the_provider(site):
    """oidc-provider-mock issues a refresh token and honours grant_type=refresh_token (with no new
    ID token): a session due for its refresh is refreshed there, and carries on with a new time."""
    key = first_key(site.key_file)
    browser = Browser(site)
    assert browser.sign_in("/private/page.html", "alice", {"roles": ["viewer"]}).status_code == 302, site.log()
    contents = unseal(key, "__Host-gatehouse", browser.cookies["__Host-gatehouse"])
    now = int(time.time())
    assert contents["rt"] and 3600 - 60 - 5 <= contents["ra"] - now <= 3600 - 60  # 60 s before the ID token's exp
    contents["ra"] = now - 1  # due now
    from gatehouse_testkit.sign_in import seal
    due = seal(key, "__Host-gatehouse", contents)
    answer = get(site, "/api/who", due)
    assert answer.status_code == 200 and subject(answer) == "alice", site.log()
    fresh = set_cookies(answer)
    assert len(fresh) == 1, answer.headers
    renewed = unseal(key, "__Host-gatehouse", fresh[0])
    assert renewed["rt"] == contents["rt"] and renewed["ra"] >= now + 3600 - 60 - 5
    assert renewed["claims"] == contents["claims"] and renewed["exp"] == contents["exp"]
    assert "refreshed the session of alice" in site.log()


def test_a_refresh_token_the_provider_revoked_ends_the_session(site):
    key = first_key(site.key_file)
    browser = Browser(site)
    assert browser.sign_in("/private/page.html", "carol").status_code == 302, site.log()
    site.provider.session.post(f"{site.provider.issuer}/users/carol/revoke-tokens").raise_for_status()
    contents = unseal(key, "__Host-gatehouse", browser.cookies["__Host-gatehouse"])
    contents["ra"] = int(time.time()) - 1
    from gatehouse_testkit.sign_in import seal
    revoked = seal(key, "__Host-gatehouse", contents)
    assert get(site, "/api/who", revoked).status_code == 401
    assert "invalid_grant" in site.log()
    page = get(site, "/private/page.html", revoked, NAVIGATE)
    assert page.status_code == 302 and page.headers["Location"].startswith(site.provider.issuer)
    assert set_cookies(page) == [""], page.headers  # the ended session is cleared


def test_refresh_before_0_keeps_no_refresh_token(tmp_path, backend, provider):
    site = SignInSite(str(tmp_path), backend, provider)
    site.start(site.policy('gatehouse.refresh-before = 0\n'))
    try:
        browser = Browser(site)
        assert browser.sign_in("/private/page.html", "bob").status_code == 302, site.log()
        contents = unseal(first_key(site.key_file), "__Host-gatehouse", browser.cookies["__Host-gatehouse"])
        assert "rt" not in contents and "ra" not in contents
    finally:
        site.stop()


@pytest.mark.parametrize("value,message", [
    ('"-1"', "gatehouse.refresh-before: expected a duration from 0 (never refresh) to 86400 seconds"),
    ('"2d"', "gatehouse.refresh-before: expected a duration from 0 (never refresh) to 86400 seconds"),
])
def test_lighttpd_tt_refuses_a_bad_refresh_before(tmp_path, backend, provider, value, message):
    site = SignInSite(str(tmp_path), backend, provider)
    code, output = site.check(site.policy(f"gatehouse.refresh-before = {value}\n"))
    assert code != 0 and message in output, output


# --- against a scripted token endpoint ------------------------------------------------------

@pytest.fixture
def scripted(tmp_path, backend, provider, keys):
    """A site whose token endpoint answers what the test scripts, and whose keys include the
    test's own RSA key, so that the ID tokens the script returns verify."""
    endpoints = []

    def make(answer, delay=0, extra=""):
        endpoint = ScriptedTokenEndpoint(answer, delay)
        endpoints.append(endpoint)
        server = SignInSite(str(tmp_path / f"s{len(endpoints)}"), backend, provider)
        with open(provider.jwks_path) as f:
            trusted = json.load(f)
        with open(keys.jwks_path) as f:
            trusted["keys"] += json.load(f)["keys"]
        server.values["jwks"] = str(tmp_path / f"trusted{len(endpoints)}.json")
        with open(server.values["jwks"], "w") as f:
            json.dump(trusted, f)
        server.metadata = endpoint.metadata(server.metadata, str(tmp_path / f"scripted{len(endpoints)}.json"))
        server.start(server.policy(extra))
        endpoints.append(server)
        return server, endpoint

    yield make
    for thing in endpoints:
        thing.stop()


def id_token(keys, site, **claims):
    return keys.mint(iss=site.provider.issuer, aud=CLIENT_ID, **claims)


def test_a_new_id_token_renews_the_identity(scripted, keys):
    holder = {}
    site, endpoint = scripted(lambda form: (200, {
        "access_token": "at-2", "token_type": "Bearer", "expires_in": 300, "refresh_token": "rt-2",
        "id_token": holder["token"]}))
    holder["token"] = id_token(keys, site, sub="alice", roles=["admin"], lifetime=600)
    key = first_key(site.key_file)
    due = session_cookie(key, site.provider.issuer, refresh_in=-1, roles=["viewer"])
    answer = get(site, "/api/who", due)
    assert answer.status_code == 200 and subject(answer) == "alice", site.log()
    assert endpoint.forms[0]["grant_type"] == ["refresh_token"] and endpoint.forms[0]["refresh_token"] == ["rt-1"]
    renewed = unseal(key, "__Host-gatehouse", set_cookies(answer)[0])
    assert renewed["claims"]["roles"] == ["admin"] and renewed["rt"] == "rt-2"
    assert renewed["idt"] == holder["token"] and "nonce" not in renewed["claims"]
    now = int(time.time())
    assert now + 300 <= renewed["ra"] + 60 + 2 and renewed["ra"] <= now + 600 - 60  # the new ID token's exp - 60
    assert get(site, "/admin/x", set_cookies(answer)[0]).status_code == 404  # an admin now: allowed, no such file


def test_the_first_refresh_decides_with_the_fresh_identity(scripted, keys):
    """The request that triggers the refresh is decided with what the provider answered."""
    holder = {}
    site, _ = scripted(lambda form: (200, {"access_token": "a", "token_type": "Bearer", "id_token": holder["token"]}))
    holder["token"] = id_token(keys, site, sub="alice", roles=["admin"])
    due = session_cookie(first_key(site.key_file), site.provider.issuer, refresh_in=-1, roles=["viewer"])
    assert get(site, "/admin/x", due).status_code == 404, site.log()


def test_a_refused_request_still_carries_the_refreshed_cookie(scripted, keys):
    """The refresh token the old cookie holds is spent at the provider: the new session cookie goes
    with the answer even when the rule refuses the request (and rotating providers refuse the old
    refresh token afterwards)."""
    holder = {}
    site, endpoint = scripted(lambda form: (200, {
        "access_token": "a", "token_type": "Bearer", "refresh_token": "rt-2", "id_token": holder["token"]}))
    holder["token"] = id_token(keys, site, sub="alice", roles=["viewer"])
    key = first_key(site.key_file)
    due = session_cookie(key, site.provider.issuer, refresh_in=-1, roles=["viewer"])
    answer = get(site, "/admin/x", due)
    assert answer.status_code == 403, site.log()
    assert len(endpoint.forms) == 1
    fresh = set_cookies(answer)
    assert len(fresh) == 1 and unseal(key, "__Host-gatehouse", fresh[0])["rt"] == "rt-2", answer.headers


@pytest.mark.parametrize("claims,why", [
    ({"sub": "mallory"}, "names another sub"),
    ({"sub": "alice", "iss": "https://other.example"}, "refreshed ID token was refused"),
    ({"sub": "alice", "aud": "another-client"}, "refreshed ID token was refused"),
])
def test_a_refreshed_id_token_for_someone_else_ends_the_session(scripted, keys, claims, why):
    holder = {}
    site, _ = scripted(lambda form: (200, {"access_token": "a", "token_type": "Bearer", "id_token": holder["token"]}))
    holder["token"] = keys.mint(**{"iss": site.provider.issuer, "aud": CLIENT_ID, **claims})
    due = session_cookie(first_key(site.key_file), site.provider.issuer, refresh_in=-1)
    assert get(site, "/api/who", due).status_code == 401
    assert why in site.log(), site.log()
    page = get(site, "/private/page.html", due, NAVIGATE)
    assert page.status_code == 302 and page.headers["Location"].startswith(site.provider.issuer)


def test_invalid_grant_ends_the_session(scripted):
    site, endpoint = scripted(lambda form: (400, {"error": "invalid_grant"}))
    due = session_cookie(first_key(site.key_file), site.provider.issuer, refresh_in=-1)
    page = get(site, "/private/page.html", due, NAVIGATE)
    assert page.status_code == 302 and page.headers["Location"].startswith(site.provider.issuer), site.log()
    assert set_cookies(page) == [""]
    assert get(site, "/api/who", due).status_code == 401
    assert endpoint.calls == 1  # the ended session is remembered: not asked again at once
    assert "refused the refresh token (invalid_grant)" in site.log()


@pytest.mark.parametrize("failure", ["down", "error", "garbage"])
def test_a_provider_that_cannot_refresh_keeps_the_session_until_it_ends(scripted, failure):
    answers = {"down": (503, {}), "error": (500, {"error": "server_error"}), "garbage": (200, {"no": "token"})}
    site, endpoint = scripted(lambda form: answers[failure])
    due = session_cookie(first_key(site.key_file), site.provider.issuer, lifetime=4, refresh_in=-1)
    answer = get(site, "/api/who", due)
    assert answer.status_code == 200 and subject(answer) == "alice", site.log()
    assert set_cookies(answer) == []
    assert "WARNING: gatehouse: the session was not refreshed, it goes on until it ends" in site.log()
    assert get(site, "/api/who", due).status_code == 200
    assert endpoint.calls == 1  # not asked on every request
    time.sleep(4.5)
    assert get(site, "/api/who", due).status_code == 401  # the session's own end


def test_an_unreachable_token_endpoint_keeps_the_session(tmp_path, backend, provider):
    site = SignInSite(str(tmp_path), backend, provider)
    with_token_endpoint(site.metadata, "http://127.0.0.1:9/oauth2/token")  # nothing listens on port 9
    site.start(site.policy())
    try:
        due = session_cookie(first_key(site.key_file), site.provider.issuer, refresh_in=-1)
        answer = get(site, "/api/who", due)
        assert answer.status_code == 200 and subject(answer) == "alice"
        assert "could not be reached" in site.log()
    finally:
        site.stop()


def test_a_slow_refresh_never_stalls_other_requests_and_runs_once(scripted):
    site, endpoint = scripted(lambda form: (200, {"access_token": "a", "token_type": "Bearer", "expires_in": 600}),
                              delay=2.0)
    due = session_cookie(first_key(site.key_file), site.provider.issuer, refresh_in=-1)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        started = time.monotonic()
        waiting = [pool.submit(get, site, "/api/who", due) for _ in range(3)]
        while endpoint.calls == 0 and time.monotonic() - started < 5:
            time.sleep(0.01)
        times = static_answer_times(site)
        assert not any(w.done() for w in waiting)
        assert max(times) < 0.05, times
        answers = [w.result() for w in waiting]
    assert all(a.status_code == 200 and subject(a) == "alice" for a in answers), site.log()
    assert all(len(set_cookies(a)) == 1 for a in answers)
    assert time.monotonic() - started >= 2.0
    assert endpoint.calls == 1  # one refresh for the three requests of one session
    # a request still carrying the old cookie right after gets the refreshed session, no new call
    late = get(site, "/api/who", due)
    assert late.status_code == 200 and len(set_cookies(late)) == 1 and endpoint.calls == 1


def test_a_refresh_past_the_deadline_keeps_the_session(scripted):
    site, endpoint = scripted(lambda form: (200, {"access_token": "a", "token_type": "Bearer"}), delay=6.0,
                              extra='gatehouse.sign-in-timeout = "2s"\n')
    due = session_cookie(first_key(site.key_file), site.provider.issuer, refresh_in=-1)
    started = time.monotonic()
    answer = get(site, "/api/who", due)
    assert answer.status_code == 200 and subject(answer) == "alice" and time.monotonic() - started < 5.5
    assert "was not refreshed" in site.log()


def test_a_refresh_waiting_in_a_process_forked_by_a_graceful_restart_keeps_the_session(scripted):
    import os
    import signal
    site, endpoint = scripted(lambda form: (200, {"access_token": "a", "token_type": "Bearer"}), delay=3.0,
                              extra='server.feature-flags += ( "server.graceful-restart-bg" => "enable" )\n')
    due = session_cookie(first_key(site.key_file), site.provider.issuer, refresh_in=-1)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        waiting = pool.submit(get, site, "/api/who", due)
        while endpoint.calls == 0 and time.monotonic() - started < 5:
            time.sleep(0.01)
        os.kill(site.process.pid, signal.SIGUSR1)
        answer = waiting.result(timeout=30)
    assert answer.status_code == 200 and subject(answer) == "alice" and time.monotonic() - started < 3, site.log()
    assert "forked by a graceful restart" in site.log()
