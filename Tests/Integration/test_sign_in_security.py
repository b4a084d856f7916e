"""Browser sign-in under attack: forged or replayed callbacks, open redirects, tampered
cookies, cross-site requests; and a slow provider that must never stall lighttpd."""
import base64
import concurrent.futures
import os
import time
import urllib.parse

import pytest
import requests

from gatehouse_testkit.sign_in import (NAVIGATE, Browser, SignInSite, SlowTokenEndpoint, static_answer_times,
                                       with_token_endpoint, write_key_file)


def callback_of(browser, target, sub="mallory"):
    """Starts a login in `browser` and returns the provider's callback URL (path and query)."""
    first = browser.get(target, NAVIGATE)
    assert first.status_code == 302
    parts = urllib.parse.urlsplit(browser.authorize(first.headers["Location"], sub))
    return parts.path + "?" + parts.query


def signed_in(site, sub="alice", claims=None):
    browser = Browser(site)
    assert browser.sign_in("/private/page.html", sub, claims).status_code == 302, site.log()
    return browser


# --- the callback ---------------------------------------------------------------------------

def test_a_replayed_callback_is_refused(site):
    browser = Browser(site)
    callback = callback_of(browser, "/private/page.html")
    login_cookie = browser.cookies["__Host-gatehouse-login"]
    assert browser.get(callback, NAVIGATE).status_code == 302
    # the same callback again, with the login cookie the browser had: the state was used
    replay = requests.get(site.url(callback), headers={"Cookie": f"__Host-gatehouse-login={login_cookie}"},
                          allow_redirects=False, timeout=10)
    assert replay.status_code == 400
    assert "state was used already" in site.log()


@pytest.mark.parametrize("change", ["drop", "other", "twice"])
def test_a_missing_or_wrong_state_is_refused(site, change):
    browser = Browser(site)
    callback = callback_of(browser, "/private/page.html")
    path, query = callback.split("?", 1)
    params = urllib.parse.parse_qsl(query)
    if change == "drop":
        params = [(k, v) for k, v in params if k != "state"]
    elif change == "other":
        params = [(k, "A" * 43 if k == "state" else v) for k, v in params]
    else:
        params += [(k, v) for k, v in params if k == "state"]
    answer = browser.get(path + "?" + urllib.parse.urlencode(params), NAVIGATE)
    assert answer.status_code == 400
    assert "__Host-gatehouse" not in browser.cookies


def test_a_callback_without_the_login_cookie_is_refused(site):
    callback = callback_of(Browser(site), "/private/page.html")
    answer = requests.get(site.url(callback), allow_redirects=False, timeout=10)
    assert answer.status_code == 400
    assert "no sign-in in progress" in site.log()


def test_a_code_from_another_browsers_login_is_refused(site):
    victim, attacker = Browser(site), Browser(site)
    callback_of(victim, "/private/page.html")               # the victim's login is in progress
    planted = callback_of(attacker, "/private/page.html")   # the attacker's code and state
    answer = victim.get(planted, NAVIGATE)
    assert answer.status_code == 400
    assert "__Host-gatehouse" not in victim.cookies


def test_the_token_request_carries_the_pkce_verifier_and_the_client_secret(tmp_path, backend, provider):
    """oidc-provider-mock does not check PKCE, so the token request itself is checked: the
    verifier hashes to the challenge sent to the authorization endpoint (RFC 7636 §4.6), and the
    client authenticates with HTTP Basic (client_secret_basic)."""
    import hashlib
    relay = SlowTokenEndpoint(provider, delay=0)
    site = SignInSite(str(tmp_path), backend, provider)
    site.metadata = relay.metadata(site.metadata, str(tmp_path / "relayed-provider.json"))
    site.start(site.policy())
    try:
        browser = Browser(site)
        first = browser.get("/private/page.html", NAVIGATE)
        sent = urllib.parse.parse_qs(urllib.parse.urlsplit(first.headers["Location"]).query)
        parts = urllib.parse.urlsplit(browser.authorize(first.headers["Location"], "erin"))
        assert browser.get(parts.path + "?" + parts.query, NAVIGATE).status_code == 302
        headers, body = relay.requests[0]
        form = urllib.parse.parse_qs(body)
        verifier = form["code_verifier"][0]
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        assert challenge == sent["code_challenge"][0]
        assert form["grant_type"] == ["authorization_code"] and form["redirect_uri"] == sent["redirect_uri"]
        assert "client_secret" not in form
        user, secret = base64.b64decode(headers["Authorization"].split()[1]).decode().split(":")
        assert (user, secret) == ("gatehouse-web", "mock-accepts-any-secret")
    finally:
        site.stop()
        relay.stop()


def test_a_wrong_nonce_is_refused(site):
    browser = Browser(site)
    first = browser.get("/private/page.html", NAVIGATE)
    location = urllib.parse.urlsplit(first.headers["Location"])
    params = [(k, "wrong-nonce" if k == "nonce" else v) for k, v in urllib.parse.parse_qsl(location.query)]
    forged = urllib.parse.urlunsplit(location._replace(query=urllib.parse.urlencode(params)))
    parts = urllib.parse.urlsplit(browser.authorize(forged, "mallory"))
    answer = browser.get(parts.path + "?" + parts.query, NAVIGATE)
    assert answer.status_code == 403
    assert "does not carry this sign-in's nonce" in site.log()


def test_a_provider_error_is_refused(site):
    browser = Browser(site)
    callback = callback_of(browser, "/private/page.html")
    state = dict(urllib.parse.parse_qsl(callback.split("?", 1)[1]))["state"]
    answer = browser.get("/.gatehouse/callback?" + urllib.parse.urlencode({"error": "access_denied", "state": state}),
                         NAVIGATE)
    assert answer.status_code == 403 and "error=access_denied" in site.log()


# --- where the browser returns ---------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "//evil.example/", "/\\evil.example/", "/\\\\evil.example", "/%2F%2Fevil.example", "/%2fevil.example",
    "/%5Cevil.example", "/%09/evil.example", "/%252F%252Fevil.example", "/.//evil.example", "/x/..//evil.example",
    "/?next=//evil.example", "///evil.example",
])
def test_open_redirect_variants_land_on_this_site(tmp_path, backend, provider, target):
    """Whatever a link makes the browser ask for, the sign-in returns it to this site (the
    return target of each variant is checked byte by byte in the Swift tests)."""
    site = SignInSite(str(tmp_path), backend, provider)
    site.start(site.policy(rules='"/" => "authenticated"'))
    try:
        browser = Browser(site)
        answer = browser.get(target, NAVIGATE)
        if answer.status_code == 400:  # lighttpd's request parser refuses it before any module runs
            assert "Location" not in answer.headers
            return
        assert answer.status_code == 302 and answer.headers["Location"].startswith(site.provider.issuer)
        parts = urllib.parse.urlsplit(browser.authorize(answer.headers["Location"], "carol"))
        location = browser.get(parts.path + "?" + parts.query, NAVIGATE).headers["Location"]
        assert location.startswith("/") and location[1:2] not in ("/", "\\") and "\\" not in location
        for url in (location, urllib.parse.unquote(location), urllib.parse.unquote(urllib.parse.unquote(location))):
            assert urllib.parse.urlsplit(urllib.parse.urljoin(site.url("/"), url)).netloc == f"127.0.0.1:{site.port}"
    finally:
        site.stop()


def test_a_post_logout_redirect_to_another_site_is_refused_at_startup(site):
    for value in ("//evil.example/", "https://evil.example/", "/\\evil", "/%2F%2Fevil"):
        code, output = site.check(site.policy(f'gatehouse.post-logout-redirect = "{value}"\n'))
        assert code != 0 and "gatehouse.post-logout-redirect: expected a path on this site" in output, output


# --- the session cookie ----------------------------------------------------------------------

def flip(value, index):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    c = value[index]
    return value[:index] + alphabet[(alphabet.index(c) + 1) % 64] + value[index + 1:]


@pytest.mark.parametrize("damage", ["first", "middle", "last", "truncated", "empty", "twice"])
def test_a_tampered_or_truncated_session_cookie_is_refused(site, damage):
    browser = signed_in(site)
    good = browser.cookies["__Host-gatehouse"]
    bad = {"first": flip(good, 0), "middle": flip(good, len(good) // 2), "last": flip(good, len(good) - 1),
           "truncated": good[:-20], "empty": ""}.get(damage)
    cookie = f"__Host-gatehouse={good}; __Host-gatehouse={good}" if damage == "twice" else f"__Host-gatehouse={bad}"
    api = requests.get(site.url("/api/x"), headers={"Cookie": cookie, "Accept": "application/json"}, timeout=10)
    assert api.status_code == 401
    page = requests.get(site.url("/private/page.html"), headers={"Cookie": cookie, **NAVIGATE},
                        allow_redirects=False, timeout=10)
    assert page.status_code == 302 and page.headers["Location"].startswith(site.provider.issuer)


def test_a_session_sealed_with_another_key_is_refused(tmp_path, backend, provider, site):
    other = SignInSite(str(tmp_path / "other"), backend, provider)
    other.start(other.policy())
    try:
        foreign = signed_in(other).cookies["__Host-gatehouse"]
    finally:
        other.stop()
    answer = requests.get(site.url("/api/x"), headers={"Cookie": f"__Host-gatehouse={foreign}"}, timeout=10)
    assert answer.status_code == 401


def test_a_login_cookie_is_not_a_session(site):
    browser = Browser(site)
    browser.get("/private/page.html", NAVIGATE)
    login = browser.cookies["__Host-gatehouse-login"]
    answer = requests.get(site.url("/api/x"), headers={"Cookie": f"__Host-gatehouse={login}"}, timeout=10)
    assert answer.status_code == 401


def test_two_servers_sharing_a_key_file_accept_each_others_sessions(tmp_path, backend, provider):
    keys = write_key_file(str(tmp_path / "shared.keys"))
    a = SignInSite(str(tmp_path / "a"), backend, provider, key_file=keys)
    b = SignInSite(str(tmp_path / "b"), backend, provider, key_file=keys)
    a.start(a.policy())
    b.start(b.policy())
    try:
        cookie = signed_in(a, "dave").cookies["__Host-gatehouse"]
        answer = requests.get(b.url("/api/who"), headers={"Cookie": f"__Host-gatehouse={cookie}"}, timeout=10)
        assert answer.status_code == 200
        assert ["X-Auth-Subject", "dave"] in answer.json()["headers"]
    finally:
        a.stop()
        b.stop()


def test_a_rotated_key_file_still_opens_sessions_of_the_old_key(tmp_path, backend, provider):
    keys = write_key_file(str(tmp_path / "rotating.keys"))
    site = SignInSite(str(tmp_path / "s"), backend, provider, key_file=keys)
    site.start(site.policy())
    try:
        old = signed_in(site).cookies["__Host-gatehouse"]
    finally:
        site.stop()
    with open(keys) as f:
        previous = f.read()
    with open(keys, "w") as f:
        f.write(base64.b64encode(os.urandom(32)).decode() + "\n" + previous)
    site.start(site.policy())
    try:
        answer = requests.get(site.url("/api/who"), headers={"Cookie": f"__Host-gatehouse={old}"}, timeout=10)
        assert answer.status_code == 200
        fresh = signed_in(site).cookies["__Host-gatehouse"]
        assert base64.urlsafe_b64decode(fresh[:4])[0] != base64.urlsafe_b64decode(old[:4])[0]
    finally:
        site.stop()


# --- cross-site request forgery --------------------------------------------------------------

@pytest.mark.parametrize("headers,status", [
    ({"Origin": "https://evil.example"}, 403),
    ({"Origin": "null"}, 403),
    ({"Sec-Fetch-Site": "cross-site"}, 403),
    ({"Sec-Fetch-Site": "same-site"}, 403),
    ({}, 403),
    ({"Sec-Fetch-Site": "same-origin"}, 200),
    ("own-origin", 200),
])
def test_a_state_changing_request_with_the_session_alone_must_come_from_this_origin(site, headers, status):
    browser = signed_in(site)
    if headers == "own-origin":
        headers = {"Origin": f"http://127.0.0.1:{site.port}"}
    answer = browser.get("/api/change", {**headers, "Accept": "application/json"}, method="POST", data="x=1")
    assert answer.status_code == status, site.log()


# --- a slow or absent provider ---------------------------------------------------------------

@pytest.fixture
def slow(tmp_path, backend, provider):
    relay = SlowTokenEndpoint(provider, delay=2.0)
    server = SignInSite(str(tmp_path), backend, provider)
    server.metadata = relay.metadata(server.metadata, str(tmp_path / "slow-provider.json"))
    server.start(server.policy())
    yield server, relay
    server.stop()
    relay.stop()


def test_a_slow_token_endpoint_never_stalls_other_requests(slow):
    site, relay = slow
    browser = Browser(site)
    callback = callback_of(browser, "/private/page.html")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        signing_in = pool.submit(browser.get, callback, NAVIGATE)
        while relay.calls == 0 and time.monotonic() - started < 5:
            time.sleep(0.01)
        assert relay.calls == 1  # the code exchange is waiting on the slow endpoint now
        times = static_answer_times(site)
        assert not signing_in.done()
        assert max(times) < 0.05, times
        assert signing_in.result().status_code == 302
        assert time.monotonic() - started >= 2.0


def test_a_token_endpoint_past_the_timeout_is_answered_504(tmp_path, backend, provider):
    relay = SlowTokenEndpoint(provider, delay=6.0)
    site = SignInSite(str(tmp_path), backend, provider)
    site.metadata = relay.metadata(site.metadata, str(tmp_path / "slow-provider.json"))
    site.start(site.policy('gatehouse.sign-in-timeout = "2s"\n'))
    try:
        browser = Browser(site)
        started = time.monotonic()
        answer = browser.get(callback_of(browser, "/private/page.html"), NAVIGATE)
        assert answer.status_code == 504 and time.monotonic() - started < 5
        assert "did not answer in time" in site.log() or "did not answer within" in site.log()
    finally:
        site.stop()
        relay.stop()


def test_a_provider_that_is_down_is_answered_502(tmp_path, backend, provider):
    site = SignInSite(str(tmp_path), backend, provider)
    with_token_endpoint(site.metadata, "http://127.0.0.1:9/oauth2/token")  # nothing listens on port 9
    site.start(site.policy())
    try:
        browser = Browser(site)
        answer = browser.get(callback_of(browser, "/private/page.html"), NAVIGATE)
        assert answer.status_code == 502
        assert "could not be reached" in site.log()
    finally:
        site.stop()


def test_a_full_queue_answers_503_with_retry_after(tmp_path, backend, provider):
    relay = SlowTokenEndpoint(provider, delay=3.0)
    site = SignInSite(str(tmp_path), backend, provider)
    site.metadata = relay.metadata(site.metadata, str(tmp_path / "slow-provider.json"))
    site.start(site.policy('gatehouse.sign-in-workers = 1\ngatehouse.sign-in-timeout = "2s"\n'
                           'gatehouse.status-url = "/.gatehouse/status"\n'))
    try:
        logins = []
        for _ in range(70):
            b = Browser(site)
            first = b.get("/private/page.html", NAVIGATE)
            state = urllib.parse.parse_qs(urllib.parse.urlsplit(first.headers["Location"]).query)["state"][0]
            logins.append((b, f"/.gatehouse/callback?code=bogus&state={state}"))
        with concurrent.futures.ThreadPoolExecutor(70) as pool:
            answers = list(pool.map(lambda login: login[0].get(login[1], NAVIGATE), logins))
        statuses = [a.status_code for a in answers]
        busy = [a for a in answers if a.status_code == 503]
        assert len(busy) >= 70 - 64, statuses
        assert all(a.headers.get("Retry-After") == "1" for a in busy)
        assert set(statuses) <= {503, 504, 403}, statuses
        status = requests.get(site.url("/.gatehouse/status"), timeout=5).text
        assert f"gatehouse_sign_in_queue_full_total {len(busy)}" in status
    finally:
        site.stop()
        relay.stop()
