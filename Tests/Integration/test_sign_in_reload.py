"""The session key file and the provider's endpoints, read again when their files change under a
running lighttpd: keys rotate without logging anyone out, and a broken file keeps the last good
one in force, loudly."""
import base64
import json
import os
import subprocess
import time

import pytest
import requests

from gatehouse_testkit.paths import GATEHOUSE
from gatehouse_testkit.sign_in import NAVIGATE, Browser


def wait_for_log(site, text, timeout=6):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in site.log():
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not logged within {timeout} s: {site.log()[-2000:]}")


def rewrite(path, text):
    """Replaces the file's contents (a new inode, as an editor or `install` does)."""
    with open(path + ".new", "w") as f:
        f.write(text)
    os.chmod(path + ".new", 0o600)
    os.replace(path + ".new", path)


def opens(cookie, key_file):
    return subprocess.run([GATEHOUSE, "session", "inspect", "--key-file", key_file, "--cookie", cookie],
                          capture_output=True, text=True, timeout=60).returncode == 0


def session_works(site, cookie):
    answer = requests.get(site.url("/api/who"), headers={"Cookie": f"__Host-gatehouse={cookie}"}, timeout=10)
    return answer.status_code == 200


def signed_in(site, sub):
    browser = Browser(site)
    assert browser.sign_in("/private/page.html", sub).status_code == 302, site.log()
    return browser.cookies["__Host-gatehouse"]


def test_a_rotated_key_file_is_used_without_a_restart(site, tmp_path):
    old_key = open(site.key_file).read().strip()
    old = signed_in(site, "alice")
    new_key = base64.b64encode(os.urandom(32)).decode()
    only_new, only_old = str(tmp_path / "new.keys"), str(tmp_path / "old.keys")
    rewrite(only_new, new_key + "\n")
    rewrite(only_old, old_key + "\n")
    rewrite(site.key_file, new_key + "\n" + old_key + "\n")
    wait_for_log(site, f"reloaded {site.key_file} (2 session keys)")
    assert session_works(site, old)  # every key opens
    fresh = signed_in(site, "bob")  # the first key seals
    assert opens(fresh, only_new) and not opens(fresh, only_old)
    assert session_works(site, fresh)
    # the old key removed: its sessions end, the new ones go on
    rewrite(site.key_file, new_key + "\n")
    wait_for_log(site, f"reloaded {site.key_file} (1 session key)")
    assert not session_works(site, old)
    assert session_works(site, fresh)


def test_a_broken_key_file_keeps_the_last_good_keys(site):
    cookie = signed_in(site, "carol")
    rewrite(site.key_file, "not a key\n")
    wait_for_log(site, f"keeping the last good {site.key_file} in force, the changed file was refused: "
                       f"{site.key_file} line 1: expected the base64 of 32 random bytes")
    assert session_works(site, cookie)
    assert signed_in(site, "dave")  # sign-in goes on with the keys in force
    os.remove(site.key_file)
    wait_for_log(site, f"cannot read {site.key_file}")
    assert session_works(site, cookie)


def test_changed_provider_endpoints_are_used_without_a_restart(site):
    with open(site.metadata) as f:
        document = json.load(f)
    before = Browser(site).get("/private/page.html", NAVIGATE)
    assert before.headers["Location"].startswith(document["authorization_endpoint"] + "?")
    document["authorization_endpoint"] = "https://login.example.test/authorize"
    rewrite(site.metadata, json.dumps(document))
    wait_for_log(site, f"reloaded {site.metadata} (the provider's endpoints)")
    after = Browser(site).get("/private/page.html", NAVIGATE)
    assert after.status_code == 302 and after.headers["Location"].startswith("https://login.example.test/authorize?")


@pytest.mark.parametrize("broken,why", [
    ("{not json", "expected the provider's discovery document, a JSON object"),
    ('{"issuer": "http://127.0.0.1:1", "authorization_endpoint": "http://evil.example/a", "token_endpoint": '
     '"http://127.0.0.1:1/t"}', '"authorization_endpoint" must be an https URL (http only on loopback)'),
])
def test_broken_provider_endpoints_keep_the_last_good_ones(site, broken, why):
    with open(site.metadata) as f:
        endpoint = json.load(f)["authorization_endpoint"]
    rewrite(site.metadata, broken)
    wait_for_log(site, f"keeping the last good {site.metadata} in force, the changed file was refused")
    assert why in site.log()
    answer = Browser(site).get("/private/page.html", NAVIGATE)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(endpoint + "?")
