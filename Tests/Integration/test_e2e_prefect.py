"""Prefect's real server (`prefect server start`, SQLite: its API and its web UI) behind lighttpd +
mod_gatehouse, configured by examples/prefect.conf, with tokens from the real OpenID Connect
provider and people signed in through its login page."""
import json
import os
import subprocess

import pytest
import requests

from gatehouse_testkit.e2e import guarded
from gatehouse_testkit.paths import ROOT
from gatehouse_testkit.sign_in import NAVIGATE, Browser, Origin, sign_in_files

pytestmark = pytest.mark.e2e

PREFECT = os.path.join(ROOT, "build", "venv-prefect", "bin", "prefect")


@pytest.fixture(scope="module")
def prefect(tmp_path_factory, provider):
    home = str(tmp_path_factory.mktemp("prefect-home"))
    # the UI calls the API on its own origin, through lighttpd; its files are copied under home
    environment = {"PREFECT_HOME": home, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_API_URL": "/api",
                   "PREFECT_UI_STATIC_DIRECTORY": os.path.join(home, "ui")}

    def server(port, _):
        return [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)]

    files = sign_in_files(provider, str(tmp_path_factory.mktemp("prefect-sign-in")))
    with guarded("prefect", tmp_path_factory, provider, server, env=environment, timeout=180, **files) as (site, tap):
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
    # (other clients of this Prefect, a worker's heartbeats, may be heard meanwhile)
    assert not [r for r in tap.requests[before:] if "bulk_delete" in r["path"]]


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


def test_people_sign_in_to_the_ui_and_its_websockets_take_bearer_tokens_only(prefect, provider):
    site, tap, tokens = prefect
    page = site.request("GET", "/", headers=dict(NAVIGATE), allow_redirects=False, check_offline=False)
    assert page.status_code == 302 and page.headers["Location"].startswith(provider.issuer + "/oauth2/authorize")
    # the UI's files and settings are a viewer's, its manifest anyone's (browsers fetch it without cookies)
    assert site.request("GET", "/ui-settings", tokens["viewer"]).json()["api_url"] == "/api"
    assert site.request("GET", "/ui-settings").status_code == 401
    assert site.request("GET", "/v2/ico/site.webmanifest").status_code == 200
    assert site.request("POST", "/ui-settings", tokens["admin"]).status_code == 403  # outside /api/ only reads
    # a session never opens a websocket (a GET, which no Origin check covers): sending events needs
    # a worker's bearer token even from an administrator's browser
    session = signed_in_cookie(site, provider, "ada", "admin")
    upgrade = {"Cookie": session, "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": f"http://127.0.0.1:{site.port}"}
    before = len(tap.requests)
    for path in ("/api/events/in", "/api/events/out"):
        answer = requests.get(f"http://127.0.0.1:{site.port}{path}", headers=upgrade, timeout=10)
        assert answer.status_code == 401, (path, answer.status_code)
    assert len(tap.requests) == before
    # the same session reads the API over plain HTTP
    assert requests.post(f"http://127.0.0.1:{site.port}/api/flows/filter", json={}, timeout=10,
                         headers={"Cookie": session, "Origin": f"http://127.0.0.1:{site.port}"}).status_code == 200


def signed_in_cookie(site, provider, sub, role):
    """The session cookie of SUB (with ROLE) after signing in through the provider's form."""
    browser = Browser(Origin(site.port, provider))
    answer = browser.sign_in("/", sub, {"roles": [role]})
    assert answer.status_code == 302, answer.text
    return browser.cookie_header()


NETWORK = "return performance.getEntriesByType('resource').map(e => [e.responseStatus, new URL(e.name).pathname])"

FETCH = """
const [path, done] = arguments;
fetch(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"})
  .then(r => done(r.status), e => done(String(e)));
"""


def test_the_ui_in_chromium_signed_in_as_a_viewer_then_an_operator(prefect, deployment, provider):
    """Headless Chromium opens Prefect's UI, signs in at the provider's page, and the UI's own API
    calls (GETs and POST queries) go through with the session: the runs page lists a run created
    through the API. Its "Run → Quick run" on the deployment's page is refused for a viewer and
    starts a run for an operator."""
    from selenium.webdriver.common.by import By
    from gatehouse_testkit.browser import chromium, screenshot, sign_in_at_provider, wait
    site, tap, tokens = prefect
    _, deployment_id = deployment
    base = f"http://127.0.0.1:{site.port}"
    made = site.request("POST", f"/api/deployments/{deployment_id}/create_flow_run", tokens["operator"],
                        json={"name": "seen-in-the-ui"})
    assert made.status_code == 201, made.text

    def text(driver):
        return driver.find_element(By.TAG_NAME, "body").text

    def from_the_ui(sub):
        return [r for r in site.audit() if r["sub"] == sub and r["rule"] == "POST /api/deployments/{id}/create_flow_run"]

    driver = chromium()
    try:
        for sub, role, allowed in (("vicky", "viewer", False), ("otto", "operator", True)):
            requests.put(f"{provider.issuer}/users/{sub}", json={"roles": [role]}, timeout=10).raise_for_status()
            driver.delete_all_cookies()
            driver.get(base + "/")
            sign_in_at_provider(driver, provider.issuer, sub)
            wait(driver, lambda d: d.current_url.startswith(base + "/v2/dashboard"))
            driver.get(base + "/v2/runs")
            wait(driver, lambda d: "seen-in-the-ui" in text(d), timeout=30)
            assert "nightly-etl" in text(driver) and "Runs" in text(driver)
            network = driver.execute_script(NETWORK)
            calls = [(status, path) for status, path in network if path.startswith("/api/")]
            assert any(path == "/api/flow_runs/paginate" for _, path in calls), calls
            assert all(200 <= status < 300 for status, _ in calls), calls
            assert not [entry for entry in network if entry[0] in (401, 403)], network
            screenshot(driver, f"prefect-{role}")

            # the session does not work from another site's page (CSRF)
            cookie = f"__Host-gatehouse={driver.get_cookie('__Host-gatehouse')['value']}"
            forged = requests.post(base + "/api/flow_runs/filter", json={}, timeout=10,
                                   headers={"Cookie": cookie, "Origin": "https://evil.example"})
            assert forged.status_code == 403

            # an operator's action, from the UI: Run → Quick run on the deployment's page
            driver.get(f"{base}/v2/deployments/deployment/{deployment_id}")
            wait(driver, lambda d: d.find_elements(By.XPATH, "//button[normalize-space()='Run']"), timeout=30)
            before = len(from_the_ui(sub))
            driver.find_element(By.XPATH, "//button[normalize-space()='Run']").click()
            wait(driver, lambda d: d.find_elements(By.XPATH, "//*[normalize-space()='Quick run']"))
            driver.find_element(By.XPATH, "//*[normalize-space()='Quick run']").click()
            wait(driver, lambda d: len(from_the_ui(sub)) > before)
            record = from_the_ui(sub)[-1]
            assert (record["decision"], record["status"]) == (("allow", 0) if allowed else ("deny", 403)), record
            # the UI says so: a toast, "Flow run created" or an error
            toast = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-sonner-toast]"))[0]
            wait(driver, lambda d: toast.text)
            assert ("Flow run created" in toast.text) == allowed, toast.text
            screenshot(driver, f"prefect-{role}-quick-run")
            # and the same call from the page's own fetch, with the session
            status = driver.execute_async_script(FETCH, f"/api/deployments/{deployment_id}/create_flow_run")
            assert status == (201 if allowed else 403), (sub, status)
        started = tap.last("POST", f"/api/deployments/{deployment_id}/create_flow_run")["headers"]
        assert started["x-auth-subject"] == ["otto"] and "HeadlessChrome" in started["user-agent"][0]
    finally:
        driver.quit()
