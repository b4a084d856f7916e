"""Browser sign-in end to end: the real lighttpd with mod_gatehouse, oidc-provider-mock's real
login form, the authorization code flow with PKCE, the sealed session cookie."""
import base64
import json
import urllib.parse

import pytest
import requests

from gatehouse_testkit.sign_in import NAVIGATE, Browser, SignInSite


def test_a_navigation_without_a_session_is_sent_to_the_provider(site):
    answer = Browser(site).get("/private/page.html?x=1", NAVIGATE)
    assert answer.status_code == 302
    location = urllib.parse.urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == site.provider.issuer
    query = urllib.parse.parse_qs(location.query)
    assert query["response_type"] == ["code"] and query["client_id"] == ["gatehouse-web"]
    assert query["redirect_uri"] == [site.url("/.gatehouse/callback")]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["scope"] == ["openid profile email"]
    assert len(query["state"][0]) >= 43 and len(query["nonce"][0]) >= 43
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("__Host-gatehouse-login=")
    for attribute in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax", "Max-Age=600"):
        assert attribute in cookie


@pytest.mark.parametrize("headers,method", [
    ({"Accept": "application/json"}, "GET"),
    ({"Accept": "text/html", "Sec-Fetch-Mode": "cors"}, "GET"),
    ({"Accept": "text/html", "X-Requested-With": "XMLHttpRequest"}, "GET"),
    ({"Accept": "text/html", "Authorization": "Bearer x.y.z"}, "GET"),
    (NAVIGATE, "POST"),
])
def test_api_calls_and_other_methods_get_401_never_a_redirect(site, headers, method):
    answer = Browser(site).get("/private/page.html", headers, method=method)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Location" not in answer.headers


def test_sign_in_end_to_end(site):
    browser = Browser(site)
    answer = browser.sign_in("/private/page.html?x=1", "alice", {"roles": ["viewer"], "email": "a@example.org"})
    assert answer.status_code == 302, site.log()
    assert answer.headers["Location"] == "/private/page.html?x=1"
    assert "__Host-gatehouse" in browser.cookies and "__Host-gatehouse-login" not in browser.cookies
    assert "Secure" in answer.headers["Set-Cookie"] and "HttpOnly" in answer.headers["Set-Cookie"]
    page = browser.get("/private/page.html", NAVIGATE)
    assert page.status_code == 200 and page.text == "private page\n"
    # the same identity reaches the backend as with a bearer token
    api = browser.get("/api/who", {"Accept": "application/json", "Sec-Fetch-Site": "same-origin"})
    assert api.status_code == 200, site.log()
    seen = dict(api.json()["headers"])
    assert seen.get("X-Auth-Subject") == "alice"
    # the rules decide for sessions as for tokens
    assert browser.get("/admin/x", NAVIGATE).status_code == 403


def test_logout_clears_the_session_and_goes_to_the_provider(site):
    browser = Browser(site)
    assert browser.sign_in("/private/page.html", "bob").status_code == 302
    answer = browser.get("/.gatehouse/logout", NAVIGATE)
    assert answer.status_code == 302
    location = urllib.parse.urlsplit(answer.headers["Location"])
    query = urllib.parse.parse_qs(location.query)
    assert location.path.endswith("/end_session")
    assert query["post_logout_redirect_uri"] == [site.url("/")]
    assert query["id_token_hint"][0].count(".") == 2
    assert "__Host-gatehouse" not in browser.cookies
    again = browser.get("/private/page.html", NAVIGATE)
    assert again.status_code == 302 and again.headers["Location"].startswith(site.provider.issuer)


def without(policy, directive):
    return "\n".join(line for line in policy.splitlines() if not line.startswith(directive))


@pytest.mark.parametrize("change,message", [
    (lambda p, s: without(p, "gatehouse.client-id"), "gatehouse.login = \"enable\" needs gatehouse.client-id"),
    (lambda p, s: without(p, "gatehouse.session-key-file"), "needs gatehouse.session-key-file"),
    (lambda p, s: without(p, "gatehouse.provider-metadata"), "needs gatehouse.provider-metadata"),
    (lambda p, s: p.replace(s.key_file, s.key_file + ".missing"), "gatehouse.session-key-file: cannot read"),
    (lambda p, s: p.replace('gatehouse.login = "enable"', 'gatehouse.login = "yes"'),
     'gatehouse.login: expected "enable" or "disable", got "yes"'),
    (lambda p, s: p + 'gatehouse.session-lifetime = "forever"\n',
     'gatehouse.session-lifetime: expected a duration from 1 second to 2592000 seconds'),
    (lambda p, s: p + 'gatehouse.token-endpoint-auth = "private_key_jwt"\n',
     'gatehouse.token-endpoint-auth: expected "client_secret_basic", "client_secret_post" or "none"'),
    (lambda p, s: p + 'gatehouse.token-endpoint-auth = "none"\n',
     'gatehouse.token-endpoint-auth = "none" sends no secret'),
    (lambda p, s: p + 'gatehouse.login-scopes = "profile email"\n', 'including "openid"'),
    (lambda p, s: p + '$HTTP["host"] == "x" { gatehouse.sign-in-workers = 4 }\n',
     "gatehouse.sign-in-workers is server-wide"),
])
def test_lighttpd_tt_refuses_a_login_context_that_cannot_work(tmp_path, backend, provider, change, message):
    site = SignInSite(str(tmp_path), backend, provider)
    code, output = site.check(change(site.policy(), site))
    assert code != 0 and message in output, output


def test_lighttpd_tt_refuses_a_key_of_the_wrong_size(tmp_path, backend, provider):
    site = SignInSite(str(tmp_path), backend, provider)
    with open(site.key_file, "w") as f:
        f.write("c2hvcnQ=\n")
    code, output = site.check(site.policy())
    assert code != 0 and "line 1: expected the base64 of 32 random bytes" in output, output
    assert "gatehouse.session-key-file" in output


def test_lighttpd_tt_accepts_the_sign_in_configuration(tmp_path, backend, provider):
    site = SignInSite(str(tmp_path), backend, provider)
    code, output = site.check(site.policy())
    assert code == 0, output


# --- the CLI ---------------------------------------------------------------------------------

def gatehouse(*args, stdin=None):
    import subprocess
    from gatehouse_testkit.paths import GATEHOUSE
    return subprocess.run([GATEHOUSE, *args], capture_output=True, text=True, timeout=60, input=stdin)


def test_session_new_key_writes_a_private_key_file_and_rotates(tmp_path):
    import os
    import stat
    path = str(tmp_path / "keys")
    assert gatehouse("session", "new-key", "--out", path).returncode == 0
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    first = open(path).read()
    refused = gatehouse("session", "new-key", "--out", path)
    assert refused.returncode == 2 and "exists" in refused.stderr and open(path).read() == first
    assert gatehouse("session", "new-key", "--out", path, "--rotate").returncode == 0
    lines = open(path).read().splitlines()
    assert len(lines) == 2 and lines[1] == first.strip() and len(base64.b64decode(lines[0])) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


POST = ("--method", "POST", "--header", "Content-Length: 0")  # (without a length: lighttpd answers 411)

def test_session_inspect_and_check_read_a_cookie_lighttpd_sealed(site):
    browser = Browser(site)
    assert browser.sign_in("/private/page.html", "frank", {"roles": ["viewer"]}).status_code == 302
    cookie = browser.cookies["__Host-gatehouse"]
    shown = gatehouse("session", "inspect", "--key-file", site.key_file, "--cookie", cookie, "--json")
    assert shown.returncode == 0, shown.stderr
    contents = json.loads(shown.stdout)
    assert contents["claims"]["sub"] == "frank" and contents["claims"]["roles"] == ["viewer"]
    assert contents["ended"] is None and contents["has_id_token"] is True
    assert "nonce" not in contents["claims"] and "aud" not in contents["claims"]
    later = gatehouse("session", "inspect", "--key-file", site.key_file, "--cookie", cookie,
                      "--now", str(contents["idle_deadline"]))
    assert later.returncode == 1 and "idle" in later.stdout
    tampered = gatehouse("session", "inspect", "--key-file", site.key_file, "--cookie", cookie[:-2] + "AA")
    assert tampered.returncode == 1 and "does not open" in tampered.stdout
    # base64url values begin with "-" one time in 64: the option still takes them
    dashed = gatehouse("session", "inspect", "--key-file", site.key_file, "--cookie", "-" + cookie[1:])
    assert dashed.returncode == 1 and "does not open" in dashed.stdout, dashed.stderr
    config = site.config(site.policy())
    base = ["check", "--config", config, "--session-key-file", site.key_file, "--session-cookie", cookie]
    assert gatehouse(*base, "--path", "/private/page.html").returncode == 0
    assert gatehouse(*base, "--path", "/admin/x").returncode == 1
    dashed = gatehouse(*base[:-1], "-" + cookie[1:], "--path", "/private/page.html")
    assert dashed.returncode == 1 and "Missing value" not in dashed.stderr, dashed.stderr
    assert gatehouse(*base, "--path", "/api/x", *POST, "--header", "Origin: https://evil").returncode == 1
    assert gatehouse(*base, "--path", "/api/x", *POST, "--host", f"127.0.0.1:{site.port}",
                     "--header", f"Origin: http://127.0.0.1:{site.port}").returncode == 0


def test_the_cookie_format_is_the_documented_one(site):
    """Python's AES-GCM opens a session lighttpd sealed, and lighttpd accepts one Python sealed."""
    import time
    from gatehouse_testkit.sign_in import first_key, seal, unseal
    key = first_key(site.key_file)
    browser = Browser(site)
    assert browser.sign_in("/private/page.html", "heidi", {"roles": ["viewer"]}).status_code == 302
    contents = unseal(key, "__Host-gatehouse", browser.cookies["__Host-gatehouse"])
    assert contents["v"] == 1 and contents["claims"]["sub"] == "heidi" and contents["idt"].count(".") == 2
    assert contents["exp"] - contents["idle"] == 7 * 3600
    now = int(time.time())
    forged = seal(key, "__Host-gatehouse", {"v": 1, "exp": now + 60, "idle": now + 60,
                                            "claims": {"sub": "ivan", "iss": site.provider.issuer}})
    answer = requests.get(site.url("/api/who"), headers={"Cookie": f"__Host-gatehouse={forged}"}, timeout=10)
    assert answer.status_code == 200 and ["X-Auth-Subject", "ivan"] in answer.json()["headers"]
    # sealed for the login cookie's name, the same contents are no session
    other = seal(key, "__Host-gatehouse-login", {"v": 1, "exp": now + 60, "idle": now + 60, "claims": {"sub": "x"}})
    assert requests.get(site.url("/api/who"), headers={"Cookie": f"__Host-gatehouse={other}"},
                        timeout=10).status_code == 401
    ended = seal(key, "__Host-gatehouse", {"v": 1, "exp": now + 60, "idle": now - 1, "claims": {"sub": "ivan"}})
    assert requests.get(site.url("/api/who"), headers={"Cookie": f"__Host-gatehouse={ended}"},
                        timeout=10).status_code == 401


@pytest.mark.parametrize("target", ["/private/page.html", "/api/who"])
def test_the_idle_deadline_slides_on_a_used_session(site, target):
    """A session last re-sealed more than a minute ago is re-sealed with a new idle deadline, on a
    static file and on a proxied answer alike; one re-sealed within the minute is not."""
    import time
    from gatehouse_testkit.sign_in import first_key, seal, unseal
    key = first_key(site.key_file)
    now = int(time.time())
    for idle_left, resealed in ((3600 - 120, True), (3600 - 10, False)):
        cookie = seal(key, "__Host-gatehouse", {"v": 1, "exp": now + 7200, "idle": now + idle_left,
                                                "claims": {"sub": "judy", "iss": site.provider.issuer}})
        answer = requests.get(site.url(target), headers={"Cookie": f"__Host-gatehouse={cookie}"}, timeout=10)
        assert answer.status_code == 200
        fresh = [c for c in answer.raw.headers.getlist("Set-Cookie") if c.startswith("__Host-gatehouse=")]
        assert bool(fresh) == resealed, answer.headers
        if resealed:
            contents = unseal(key, "__Host-gatehouse", fresh[0].split(";")[0].split("=", 1)[1])
            assert contents["idle"] >= now + 3600 and contents["exp"] == now + 7200
            assert "Max-Age=" in fresh[0] and "HttpOnly" in fresh[0]
