"""Luigi's real central scheduler (luigid) behind lighttpd + mod_gatehouse, configured by
examples/luigi.conf, with tokens from the real OpenID Connect provider."""
import json
import os
import subprocess
import sys

import pytest

from gatehouse_testkit.e2e import guarded
from gatehouse_testkit.sign_in import NAVIGATE, Browser, Origin, sign_in_files

pytestmark = pytest.mark.e2e

HERE = os.path.dirname(__file__)


@pytest.fixture(scope="module")
def luigi(tmp_path_factory, provider):
    def luigid(port, folder):
        return ["luigid", "--address", "127.0.0.1", "--port", str(port), "--logdir", folder,
                "--state-path", os.path.join(folder, "luigi-state.pickle")]

    files = sign_in_files(provider, str(tmp_path_factory.mktemp("luigi-sign-in")))
    with guarded("luigi", tmp_path_factory, provider, luigid, post_limit="40/hour", **files) as running:
        yield running


def session(site, provider, sub, roles):
    """A browser signed in to the visualiser as SUB through the provider's login form."""
    browser = Browser(Origin(site.port, provider))
    answer = browser.sign_in("/static/visualiser/index.html", sub, {"roles": roles})
    assert answer.status_code == 302 and answer.headers["Location"] == "/static/visualiser/index.html"
    return browser


def task_list(site, token, status):
    answer = site.request("GET", "/api/task_list", token, params={"data": json.dumps({"status": status})})
    assert answer.status_code == 200, answer.text
    return answer.json()["response"]


def test_a_real_worker_with_an_operator_token_runs_its_task_through_the_gate(luigi, provider, tmp_path):
    site, tap = luigi
    worker = provider.token("etl-worker", "luigi", roles=["operator"])
    viewer = provider.token("vera", "luigi", roles=["viewer"])
    output = tmp_path / "hello.txt"
    run = subprocess.run([sys.executable, os.path.join(HERE, "luigi_worker.py"), f"http://127.0.0.1:{site.port}",
                          worker, str(output)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert output.read_text() == "hello gatehouse\n"
    done = task_list(site, viewer, "DONE")
    assert any(task["name"] == "Hello" for task in done.values()), done
    # luigid received the worker's calls with the verified identity, and no client copy of it
    seen = tap.last("POST", "/api/add_task")["headers"]
    assert seen["x-auth-subject"] == ["etl-worker"] and seen["x-auth-roles"] == ["operator"]
    records = [r for r in site.audit() if r["sub"] == "etl-worker"]
    assert records and all(r["decision"] == "allow" for r in records)
    assert {r["path"] for r in records} >= {"/api/add_task", "/api/get_work"}


def test_a_worker_with_only_a_viewer_token_cannot_schedule(luigi, provider, tmp_path):
    site, _ = luigi
    viewer = provider.token("vera", "luigi", roles=["viewer"])
    run = subprocess.run([sys.executable, os.path.join(HERE, "luigi_worker.py"), f"http://127.0.0.1:{site.port}",
                          viewer, str(tmp_path / "never.txt")], capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and not (tmp_path / "never.txt").exists()
    denied = [r for r in site.audit() if r["sub"] == "vera" and r["decision"] == "deny"]
    assert denied and denied[-1]["status"] == 403 and denied[-1]["method"] == "POST"


def test_viewers_read_the_graph_and_the_visualiser_but_change_nothing(luigi, provider):
    site, tap = luigi
    viewer = provider.token("vera", "luigi", roles=["viewer"])
    assert site.request("GET", "/api/graph", viewer).status_code == 200
    assert site.request("GET", "/api/worker_list", viewer).status_code == 200
    root = site.request("GET", "/", viewer, allow_redirects=False)
    assert root.status_code == 302 and "visualiser" in root.headers["Location"]
    page = session(site, provider, "vera", ["viewer"]).get("/static/visualiser/index.html", NAVIGATE)
    assert page.status_code == 200 and "Luigi" in page.text
    # luigid runs any RPC for GET as for POST: the gate keeps viewers off the state-changing ones
    before = len(tap.requests)
    added = site.request("GET", "/api/add_task", viewer,
                         params={"data": json.dumps({"task_id": "Sneaky", "worker": "vera"})})
    assert added.status_code == 403
    assert site.request("POST", "/api/task_list", viewer, data={"data": "{}"}).status_code == 403
    assert len(tap.requests) == before  # neither reached luigid
    assert "Sneaky" not in task_list(site, viewer, "PENDING")


def test_the_session_changes_state_only_from_a_page_of_this_site(luigi, provider):
    site, tap = luigi
    browser = session(site, provider, "otto", ["operator"])
    same = {"Sec-Fetch-Site": "same-origin", "Accept": "application/json"}
    assert browser.get("/api/graph", {"Accept": "application/json"}).status_code == 200
    # a page elsewhere cannot make a signed-in operator's browser change the scheduler: a link
    # (a top-level GET carries the Lax cookie) or a form gets 401, a same-site claim with another
    # Origin gets 403
    before = len(tap.requests)
    forged = {"data": json.dumps({"task_id": "Forged", "worker": "x"})}
    for rpc in ("pause", "mark_as_done", "add_task"):  # luigid changes state on GET too
        for fetch_site in ({}, {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}):
            answer = browser.get(f"/api/{rpc}", {**NAVIGATE, **fetch_site}, params=forged)
            assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer realm=")
    assert browser.get("/api/add_task", {"Sec-Fetch-Site": "cross-site"}, method="POST", data=forged).status_code == 401
    assert browser.get("/api/add_task", {**same, "Origin": "https://evil.example"}, method="POST",
                       data=forged).status_code == 403
    # a browser may add a Basic or Negotiate Authorization header by itself: not a Bearer token
    assert browser.get("/api/pause", {"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401
    assert len(tap.requests) == before
    # from the visualiser's own page, the operator's session is enough
    assert browser.get("/api/is_paused", same).json()["response"] == {"paused": False}
    # a bearer token, when sent, decides instead of the session
    viewer = provider.token("vera", "luigi", roles=["viewer"])
    before = len(tap.requests)
    both = browser.get("/api/pause", {**same, "Authorization": f"Bearer {viewer}"})
    assert both.status_code == 403 and len(tap.requests) == before


def test_a_client_without_credentials_is_told_to_authenticate(luigi):
    site, tap = luigi
    before = len(tap.requests)
    for method, path in (("POST", "/api/add_task"), ("GET", "/api/pause"), ("POST", "/api/task_list"),
                         ("GET", "/api/graph")):
        answer = site.request(method, path, data={"data": "{}"} if method == "POST" else None)
        assert answer.status_code == 401, (method, path, answer.status_code)
        assert answer.headers["WWW-Authenticate"].startswith('Bearer realm="'), answer.headers
        assert "error=" not in answer.headers["WWW-Authenticate"]
    assert len(tap.requests) == before


def test_requests_without_a_valid_token_never_reach_luigid(luigi, provider):
    site, tap = luigi
    before = len(tap.requests)
    assert site.request("GET", "/api/graph").status_code == 401
    wrong_audience = provider.token("vera", "prefect", roles=["viewer"])
    refused = site.request("GET", "/api/graph", wrong_audience)
    assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    spoofed = site.request("GET", "/api/graph", headers={"X-Auth-Subject": "root"})
    assert spoofed.status_code == 401
    assert len(tap.requests) == before


def test_posts_are_rate_limited_per_identity(luigi, provider):
    site, _ = luigi
    busy = provider.token("busy-worker", "luigi", roles=["operator"])
    calm = provider.token("calm-worker", "luigi", roles=["operator"])
    statuses = [site.request("POST", "/api/ping", busy, data={"data": json.dumps({"worker": "busy"})},
                             check_offline=False).status_code for _ in range(45)]
    assert statuses[:40] == [200] * 40 and statuses[40:] == [429] * 5
    limited = site.request("POST", "/api/ping", busy, data={"data": "{}"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    # another identity has its own bucket; reads are not limited
    assert site.request("POST", "/api/ping", calm, data={"data": json.dumps({"worker": "calm"})}).status_code == 200
    assert site.request("GET", "/api/graph", busy).status_code == 200


RPC = """
const [path, data, done] = arguments;
$.ajax("/api/" + path, {data: {data: JSON.stringify(data)}, method: "GET", dataType: "json"})
  .always(function (a, b, c) { done((c && c.status) || a.status); });
"""


def test_the_visualiser_in_chromium_signed_in_as_a_viewer_then_an_operator(luigi, provider):
    """Headless Chromium opens the visualiser, signs in at the provider's page, and the
    visualiser's own API calls go through with the session; an operator action made from the page
    (the visualiser's GET RPC, with its jQuery) is refused for a viewer and allowed for an operator."""
    import requests
    from selenium.webdriver.common.by import By
    from gatehouse_testkit.browser import chromium, screenshot, sign_in_at_provider, wait
    site, tap = luigi
    home = f"http://127.0.0.1:{site.port}/static/visualiser/index.html"
    driver = chromium()
    try:
        for sub, roles, allowed in (("vicky", ["viewer"], False), ("olga", ["operator"], True)):
            requests.put(f"{provider.issuer}/users/{sub}", json={"roles": roles}, timeout=10).raise_for_status()
            driver.delete_all_cookies()
            before = len(tap.requests)
            driver.get(home)
            sign_in_at_provider(driver, provider.issuer, sub)
            wait(driver, lambda d: d.current_url == home)
            assert driver.title == "Luigi Task Visualiser"
            # the visualiser's own calls (task_list, worker_list…) reached luigid with the session
            wait(driver, lambda d: any(r["path"].startswith("/api/task_list") and
                                       "HeadlessChrome" in r["headers"].get("user-agent", [""])[0]
                                       for r in tap.requests[before:]))
            assert driver.execute_async_script(RPC, "task_list", {"status": "PENDING", "upstream_status": "",
                                                                  "search": ""}) == 200
            text = driver.find_element(By.TAG_NAME, "body").text
            assert "Luigi Task Status" in text and "PENDING TASKS" in text.upper()
            screenshot(driver, f"luigi-visualiser-{roles[0]}")
            status = driver.execute_async_script(RPC, "forgive_failures", {"task_id": "NoSuchTask"})
            assert status == (200 if allowed else 403), (sub, status)
    finally:
        driver.quit()
