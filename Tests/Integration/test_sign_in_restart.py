"""lighttpd's graceful restart (SIGUSR1) while a sign-in waits on a slow token endpoint: the
suspended request is answered (by the old process: done, or 503 when it was forked without its
worker threads), never left hanging, and the restarted server signs people in with threads of
its own (started in worker_init)."""
import concurrent.futures
import os
import re
import signal
import time

import pytest

from gatehouse_testkit.sign_in import NAVIGATE, Browser, SignInSite, SlowTokenEndpoint


def callback_of(browser, target, sub="alice"):
    import urllib.parse
    first = browser.get(target, NAVIGATE)
    assert first.status_code == 302
    parts = urllib.parse.urlsplit(browser.authorize(first.headers["Location"], sub))
    return parts.path + "?" + parts.query


@pytest.fixture
def slow_site(tmp_path, backend, provider):
    relay = SlowTokenEndpoint(provider, delay=2.0)
    site = SignInSite(str(tmp_path), backend, provider)
    site.metadata = relay.metadata(site.metadata, str(tmp_path / "slow-provider.json"))
    yield site, relay
    site.stop()
    relay.stop()


def wait_until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def gone(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return "\nState:\tZ" in f.read()
    except FileNotFoundError:
        return True


def restart_during_a_slow_sign_in(site, relay):
    """Starts a sign-in whose code exchange waits on the slow endpoint, restarts lighttpd
    gracefully meanwhile; returns the sign-in's answer and the seconds it took."""
    browser = Browser(site)
    callback = callback_of(browser, "/private/page.html")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        signing_in = pool.submit(browser.get, callback, NAVIGATE)
        assert wait_until(lambda: relay.calls == 1, 5), site.log()
        os.kill(site.process.pid, signal.SIGUSR1)
        answer = signing_in.result(timeout=30)
        return answer, time.monotonic() - started


def signs_in_after_the_restart(site):
    def attempt():
        try:
            return Browser(site).sign_in("/private/page.html", "bob").status_code == 302
        except Exception:
            return False
    return wait_until(attempt, 15)


def test_a_graceful_restart_finishes_a_waiting_sign_in(slow_site):
    site, relay = slow_site
    site.start(site.policy())
    answer, took = restart_during_a_slow_sign_in(site, relay)
    assert answer.status_code == 302 and "__Host-gatehouse=" in answer.headers.get("Set-Cookie", ""), site.log()
    assert took >= 2.0
    assert signs_in_after_the_restart(site), site.log()
    assert site.process.poll() is None


def test_a_graceful_restart_in_the_background_answers_a_waiting_sign_in_503(slow_site):
    site, relay = slow_site
    site.start(site.policy('server.feature-flags += ( "server.graceful-restart-bg" => "enable" )\n'))
    answer, took = restart_during_a_slow_sign_in(site, relay)
    # the old process, forked without the worker threads, answers at its next second
    assert answer.status_code == 503 and took < 4, (answer.status_code, took, site.log())
    assert "forked by a graceful restart" in site.log()
    old = re.search(r"pid (\d+) continuing to handle", site.log())
    assert old, site.log()
    assert wait_until(lambda: gone(int(old.group(1))), 15), "the old process did not exit"
    assert signs_in_after_the_restart(site), site.log()
    assert site.process.poll() is None


def test_a_graceful_restart_keeps_the_last_good_session_keys(tmp_path, backend, provider):
    import requests
    site = SignInSite(str(tmp_path), backend, provider)
    site.start(site.policy())
    try:
        browser = Browser(site)
        assert browser.sign_in("/private/page.html", "carol").status_code == 302, site.log()
        cookie = browser.cookies["__Host-gatehouse"]
        with open(site.key_file, "w") as f:
            f.write("not a key\n")
        os.kill(site.process.pid, signal.SIGUSR1)
        warning = f"gatehouse.session-key-file: {site.key_file} was refused"
        assert wait_until(lambda: warning in site.log() and site.log().count("server started") == 2, 15), site.log()
        assert "still serving the last good one loaded in this process" in site.log()

        def works():
            try:
                return requests.get(site.url("/api/who"), headers={"Cookie": f"__Host-gatehouse={cookie}"},
                                    timeout=5).status_code == 200
            except requests.RequestException:
                return False
        assert wait_until(works, 10) and site.process.poll() is None
    finally:
        site.stop()
