"""Prefect's real API server (`prefect server start`, SQLite) behind lighttpd + mod_gatehouse,
configured by examples/prefect.conf, with tokens from the real OpenID Connect provider."""
import json
import os
import subprocess

import pytest

from gatehouse_testkit.e2e import guarded
from gatehouse_testkit.paths import ROOT

pytestmark = pytest.mark.e2e

PREFECT = os.path.join(ROOT, "build", "venv-prefect", "bin", "prefect")


@pytest.fixture(scope="module")
def prefect(tmp_path_factory, provider):
    home = str(tmp_path_factory.mktemp("prefect-home"))
    environment = {"PREFECT_HOME": home, "PREFECT_UI_ENABLED": "false", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}

    def server(port, _):
        return [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)]

    with guarded("prefect", tmp_path_factory, provider, server, env=environment, timeout=180) as (site, tap):
        yield site, tap, {role: provider.token(f"{role}-user", "prefect", roles=[role])
                          for role in ("admin", "operator", "viewer")}


@pytest.fixture(scope="module")
def deployment(prefect):
    site, _, tokens = prefect
    flow = site.request("POST", "/api/flows/", tokens["admin"], json={"name": "nightly-etl"})
    assert flow.status_code in (200, 201), flow.text
    made = site.request("POST", "/api/deployments/", tokens["admin"],
                        json={"name": "nightly", "flow_id": flow.json()["id"]})
    assert made.status_code in (200, 201), made.text
    return flow.json()["id"], made.json()["id"]


def test_operators_create_flow_runs_and_prefect_sees_who(prefect, deployment):
    site, tap, tokens = prefect
    _, deployment_id = deployment
    run = site.request("POST", f"/api/deployments/{deployment_id}/create_flow_run", tokens["operator"], json={})
    assert run.status_code == 201, run.text
    assert run.json()["deployment_id"] == deployment_id
    seen = tap.last("POST", f"/api/deployments/{deployment_id}/create_flow_run")["headers"]
    assert seen["x-auth-subject"] == ["operator-user"]
    # the run is really there, for a viewer to read
    runs = site.request("POST", "/api/flow_runs/filter", tokens["viewer"], json={})
    assert runs.status_code == 200 and run.json()["id"] in [r["id"] for r in runs.json()]
    record = [r for r in site.audit() if r["sub"] == "operator-user"][-1]
    assert (record["decision"], record["rule"]) == ("allow", "POST /api/deployments/{id}/create_flow_run")


def test_viewers_read_but_cannot_start_runs(prefect, deployment):
    site, tap, tokens = prefect
    flow_id, deployment_id = deployment
    assert site.request("GET", f"/api/flows/{flow_id}", tokens["viewer"]).json()["name"] == "nightly-etl"
    assert site.request("POST", "/api/flows/filter", tokens["viewer"], json={}).status_code == 200
    assert site.request("POST", "/api/deployments/filter", tokens["viewer"], json={}).status_code == 200
    before = len(tap.requests)
    assert site.request("POST", f"/api/deployments/{deployment_id}/create_flow_run", tokens["viewer"],
                        json={}).status_code == 403
    assert site.request("POST", "/api/flow_runs/", tokens["viewer"], json={"flow_id": flow_id}).status_code == 403
    denied = [r for r in site.audit() if r["sub"] == "viewer-user" and r["decision"] == "deny"]
    assert [(r["method"], r["status"], r["reason"]) for r in denied[-2:]] == [
        ("POST", 403, "policy_denied"), ("POST", 403, "policy_denied")]
    assert site.request("GET", "/api/events/in", tokens["viewer"]).status_code == 403  # sending events
    assert len(tap.requests) == before


def test_only_admins_change_deployments(prefect, deployment):
    site, tap, tokens = prefect
    _, deployment_id = deployment
    for role in ("operator", "viewer"):
        assert site.request("PATCH", f"/api/deployments/{deployment_id}", tokens[role],
                            json={"description": f"by {role}"}).status_code == 403
    assert site.request("PATCH", f"/api/deployments/{deployment_id}", tokens["admin"],
                        json={"description": "by admin"}).status_code == 204
    assert tap.last("PATCH", "/api/deployments/")["headers"]["x-auth-subject"] == ["admin-user"]
    read = site.request("GET", f"/api/deployments/{deployment_id}", tokens["viewer"])
    assert read.json()["description"] == "by admin"
    assert site.request("DELETE", f"/api/deployments/{deployment_id}", tokens["operator"]).status_code == 403


def test_secrets_in_block_documents_are_for_admins_only(prefect):
    site, tap, tokens = prefect
    secret_type = site.request("GET", "/api/block_types/slug/secret", tokens["viewer"]).json()
    schemas = site.request("POST", "/api/block_schemas/filter", tokens["admin"],
                           json={"block_schemas": {"block_type_id": {"any_": [secret_type["id"]]}}})
    document = site.request("POST", "/api/block_documents/", tokens["admin"], json={
        "name": "warehouse-password", "block_type_id": secret_type["id"],
        "block_schema_id": schemas.json()[0]["id"], "data": {"value": "hunter2"}})
    assert document.status_code == 201, document.text
    shown = f"/api/block_documents/{document.json()['id']}?include_secrets=true"
    by_slug = "/api/block_types/slug/secret/block_documents/name/warehouse-password?include_secrets=true"
    before = len(tap.requests)
    for role in ("viewer", "operator"):
        assert site.request("GET", shown, tokens[role]).status_code == 403
        assert site.request("GET", by_slug, tokens[role]).status_code == 403
    assert len(tap.requests) == before
    assert site.request("GET", shown, tokens["admin"]).json()["data"]["value"] == "hunter2"


def test_no_token_or_a_token_for_another_api_gets_401(prefect, provider):
    site, tap, _ = prefect
    before = len(tap.requests)
    missing = site.request("POST", "/api/flows/filter", json={})
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    for_luigi = provider.token("admin-user", "luigi", roles=["admin"])
    assert site.request("POST", "/api/flows/filter", for_luigi, json={}).status_code == 401
    forged_subject = site.request("GET", "/api/flows/x", headers={"X-Auth-Subject": "admin-user"})
    assert forged_subject.status_code == 401
    assert len(tap.requests) == before
    assert site.request("GET", "/api/health").json() is True  # the probe needs no token


@pytest.mark.parametrize("role, allowed", [("operator", True), ("viewer", False)])
def test_prefects_own_client_works_through_the_gate_with_its_api_key_as_the_token(prefect, deployment, role,
                                                                                   allowed):
    site, tap, tokens = prefect
    _, deployment_id = deployment
    python = os.path.join(os.path.dirname(PREFECT), "python")
    client = subprocess.run(
        [python, os.path.join(os.path.dirname(__file__), "prefect_client.py"), deployment_id],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "PREFECT_API_URL": f"http://127.0.0.1:{site.port}/api", "PREFECT_API_KEY": tokens[role],
             "PREFECT_HOME": site.folder, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    result = json.loads(client.stdout.strip().splitlines()[-1]) if client.stdout.strip() else {}
    if allowed:
        assert client.returncode == 0, client.stdout + client.stderr
        assert result["run"] in result["runs"]
        assert tap.last("POST", f"/api/deployments/{deployment_id}/create_flow_run")["headers"][
            "x-auth-subject"] == ["operator-user"]
    else:
        assert client.returncode == 1 and result == {"status": 403}, client.stdout + client.stderr


def test_operators_cannot_delete_runs_in_bulk(prefect, deployment):
    site, tap, tokens = prefect
    before = len(tap.requests)
    assert site.request("POST", "/api/flow_runs/bulk_delete", tokens["operator"],
                        json={"flow_runs": {}}).status_code == 403
    assert len(tap.requests) == before


FLOW = '''from prefect import flow, task


@task
def greet(name):
    return f"hello {name}"


@flow
def hello(name: str, out: str):
    message = greet(name)
    with open(out, "w") as f:
        f.write(message + "\\n")
'''


def test_a_real_worker_runs_a_deployment_through_the_gate_and_only_with_the_worker_role(prefect, provider,
                                                                                         tmp_path):
    site, tap, tokens = prefect
    worker_token = provider.token("worker-1", "prefect", roles=["worker"])
    (tmp_path / "hello.py").write_text(FLOW)
    prefect_env = {**os.environ, "PREFECT_API_URL": f"http://127.0.0.1:{site.port}/api",
                   "PREFECT_HOME": str(tmp_path), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}

    def as_who(token, *argv, timeout=120):
        return subprocess.run([PREFECT, *argv], capture_output=True, text=True, timeout=timeout, env={
            **prefect_env, "PREFECT_CLIENT_CUSTOM_HEADERS": json.dumps({"Authorization": f"Bearer {token}"})})

    made = as_who(tokens["admin"], "work-pool", "create", "local", "--type", "process")
    assert made.returncode == 0, made.stdout + made.stderr
    flow = site.request("POST", "/api/flows/", tokens["admin"], json={"name": "hello"}).json()
    deployment = site.request("POST", "/api/deployments/", tokens["admin"], json={
        "name": "hello-local", "flow_id": flow["id"], "work_pool_name": "local", "entrypoint": "hello.py:hello",
        "pull_steps": [{"prefect.deployments.steps.set_working_directory": {"directory": str(tmp_path)}}]}).json()
    out = tmp_path / "out.txt"
    run = site.request("POST", f"/api/deployments/{deployment['id']}/create_flow_run", tokens["operator"],
                       json={"parameters": {"name": "gatehouse", "out": str(out)}}).json()

    # an operator's token cannot poll the pool
    refused = as_who(tokens["operator"], "worker", "start", "--pool", "local", "--run-once", timeout=60)
    assert refused.returncode != 0 and "403 Forbidden" in refused.stdout + refused.stderr
    assert not out.exists()

    worked = as_who(worker_token, "worker", "start", "--pool", "local", "--run-once")
    assert worked.returncode == 0, worked.stdout[-3000:] + worked.stderr[-3000:]
    assert out.read_text() == "hello gatehouse\n"
    state = site.request("GET", f"/api/flow_runs/{run['id']}", tokens["viewer"]).json()
    assert state["state_type"] == "COMPLETED"
    # the task run reached Prefect as an event, over the websocket the gate let through
    task_runs = site.request("POST", "/api/task_runs/filter", tokens["viewer"],
                             json={"flow_runs": {"id": {"any_": [run["id"]]}}}).json()
    assert [(t["state_type"], t["name"].startswith("greet")) for t in task_runs] == [("COMPLETED", True)]
    assert tap.last("POST", "/api/work_pools/local/get_scheduled_flow_runs")["headers"][
        "x-auth-subject"] == ["worker-1"]
    by_worker = {(r["method"], r["rule"], r["decision"]) for r in site.audit() if r["sub"] == "worker-1"}
    assert ("GET", "GET /api/events/in", "allow") in by_worker
    assert ("POST", "POST /api/work_pools/{pool}/get_scheduled_flow_runs", "allow") in by_worker
    assert not any(decision == "deny" for _, _, decision in by_worker)
    denied = {(r["rule"], r["status"]) for r in site.audit()
              if r["sub"] == "operator-user" and r["decision"] == "deny"}
    assert ("POST /api/work_pools/{pool}/workers/heartbeat", 403) in denied
    # a worker runs what the pool holds; it does not reshape the pool
    assert site.request("POST", "/api/work_pools/local/queues", worker_token, json={"name": "extra"}).status_code == 403
    assert site.request("PATCH", "/api/work_pools/local", worker_token, json={}).status_code == 403
