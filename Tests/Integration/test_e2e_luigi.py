"""Luigi's real central scheduler (luigid) behind lighttpd + mod_gatehouse, configured by
examples/luigi.conf, with tokens from the real OpenID Connect provider."""
import json
import os
import subprocess
import sys

import pytest

from gatehouse_testkit.e2e import guarded

pytestmark = pytest.mark.e2e

HERE = os.path.dirname(__file__)


@pytest.fixture(scope="module")
def luigi(tmp_path_factory, provider):
    def luigid(port, folder):
        return ["luigid", "--address", "127.0.0.1", "--port", str(port), "--logdir", folder,
                "--state-path", os.path.join(folder, "luigi-state.pickle")]

    with guarded("luigi", tmp_path_factory, provider, luigid, post_limit="40/hour") as running:
        yield running


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
    page = site.request("GET", "/static/visualiser/index.html", cookies={"gatehouse_token": viewer})
    assert page.status_code == 200 and "Luigi" in page.text
    # luigid runs any RPC for GET as for POST: the gate keeps viewers off the state-changing ones
    before = len(tap.requests)
    added = site.request("GET", "/api/add_task", viewer,
                         params={"data": json.dumps({"task_id": "Sneaky", "worker": "vera"})})
    assert added.status_code == 403
    assert site.request("POST", "/api/task_list", viewer, data={"data": "{}"}).status_code == 403
    assert len(tap.requests) == before  # neither reached luigid
    assert "Sneaky" not in task_list(site, viewer, "PENDING")


def test_the_token_cookie_counts_for_reads_only(luigi, provider):
    site, tap = luigi
    operator = provider.token("otto", "luigi", roles=["operator"])
    assert site.request("GET", "/api/graph", cookies={"gatehouse_token": operator}).status_code == 200
    # a page elsewhere cannot make a logged-in operator's browser change the scheduler: there the
    # cookie is no token, and the browser is told to authenticate
    before = len(tap.requests)
    forged = site.request("POST", "/api/add_task", cookies={"gatehouse_token": operator},
                          data={"data": json.dumps({"task_id": "Forged", "worker": "x"})})
    assert forged.status_code == 401 and forged.headers["WWW-Authenticate"].startswith("Bearer realm=")
    for rpc in ("pause", "mark_as_done", "add_task"):  # luigid changes state on GET too
        assert site.request("GET", f"/api/{rpc}", cookies={"gatehouse_token": operator},
                            params={"data": json.dumps({"task_id": "Forged", "worker": "x"})}).status_code == 401
    # a browser may add a Basic or Negotiate Authorization header by itself: not a Bearer token
    assert site.request("GET", "/api/pause", cookies={"gatehouse_token": operator},
                        headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401
    assert len(tap.requests) == before
    assert site.request("GET", "/api/is_paused", operator).json()["response"] == {"paused": False}
    # where the cookie counts, a header and a cookie together are refused, whoever's the cookie is
    both = site.request("GET", "/api/graph", operator, cookies={"gatehouse_token": operator})
    assert both.status_code == 401 and 'error="invalid_token"' in both.headers["WWW-Authenticate"]


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
