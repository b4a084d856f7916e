"""A dataflow-style pipeline trigger service (stand-in) behind lighttpd + mod_gatehouse,
configured by examples/dataflow-trigger.conf: only identities entitled to a flow (its name in
the token's "flows" claim) may start it. Tokens from the real OpenID Connect provider."""
import os
import sys

import pytest

from gatehouse_testkit.e2e import guarded
from gatehouse_testkit.paths import ROOT

pytestmark = pytest.mark.e2e

STANDIN = os.path.join(ROOT, "examples", "backends", "dataflow_trigger_standin.py")


@pytest.fixture(scope="module")
def trigger(tmp_path_factory, provider):
    with guarded("dataflow-trigger", tmp_path_factory, provider,
                 lambda port, _: [sys.executable, STANDIN, "--port", str(port)], post_limit="60/hour") as running:
        yield running


def test_an_entitled_identity_starts_its_flow_and_the_service_sees_who(trigger, provider):
    site, tap = trigger
    engineer = provider.token("erin", "pipelines", flows=["etl", "reports"])
    run = site.request("POST", "/flows/etl/runs", engineer, json={"parameters": {"day": "2026-11-21"}})
    assert run.status_code == 201, run.text
    assert run.json()["triggered_by"] == "erin" and run.json()["state"] == "QUEUED"
    assert tap.last("POST", "/flows/etl/runs")["headers"]["x-auth-subject"] == ["erin"]
    runs = site.request("GET", "/flows/etl/runs", engineer).json()
    assert run.json()["run_id"] in [r["run_id"] for r in runs]
    record = site.audit()[-2]
    assert (record["decision"], record["sub"], record["path"]) == ("allow", "erin", "/flows/etl/runs")


def test_flows_outside_the_claim_are_refused(trigger, provider):
    site, tap = trigger
    engineer = provider.token("erin", "pipelines", flows=["etl", "reports"])
    before = len(tap.requests)
    assert site.request("POST", "/flows/nightly-billing/runs", engineer).status_code == 403
    assert site.request("GET", "/flows/nightly-billing/runs", engineer).status_code == 403
    assert site.request("GET", "/flows/nightly-billing/logs", engineer).status_code == 403
    # a string claim is not a list of flows: "nightly-billing" does not entitle to "billing"
    billing_team = provider.token("bill", "pipelines", flows="nightly-billing")
    assert site.request("POST", "/flows/billing/runs", billing_team).status_code == 403
    assert site.request("POST", "/flows/nightly-billing/runs", billing_team).status_code == 403
    no_claim = provider.token("nora", "pipelines")
    assert site.request("POST", "/flows/etl/runs", no_claim).status_code == 403
    assert len(tap.requests) == before
    denied = [r for r in site.audit() if r["decision"] == "deny"]
    assert [(r["sub"], r["path"]) for r in denied[-3:]] == [
        ("bill", "/flows/billing/runs"), ("bill", "/flows/nightly-billing/runs"), ("nora", "/flows/etl/runs")]


def test_auditors_read_every_flow_but_start_none(trigger, provider):
    site, _ = trigger
    auditor = provider.token("audrey", "pipelines", groups=["flow-auditors"])
    assert site.request("GET", "/flows/nightly-billing/runs", auditor).status_code == 200
    assert site.request("POST", "/flows/nightly-billing/runs", auditor).status_code == 403
    assert site.request("GET", "/flows", auditor).json() == ["nightly-billing", "billing", "etl", "reports"]


def test_without_a_valid_token_nothing_starts(trigger, provider):
    site, tap = trigger
    before = len(tap.requests)
    assert site.request("POST", "/flows/etl/runs").status_code == 401
    other_api = provider.token("erin", "luigi", flows=["etl"])
    assert site.request("POST", "/flows/etl/runs", other_api).status_code == 401
    assert site.request("GET", "/flows").status_code == 401
    assert len(tap.requests) == before


def test_triggers_are_rate_limited_per_identity(trigger, provider):
    site, _ = trigger
    eager, calm = (provider.token(sub, "pipelines", flows=["reports"]) for sub in ("eager", "calm"))
    statuses = [site.request("POST", "/flows/reports/runs", eager, json={}, check_offline=False).status_code
                for _ in range(61)]
    assert statuses[:60] == [201] * 60 and statuses[60] == 429
    assert site.request("POST", "/flows/reports/runs", calm, json={}).status_code == 201
    assert site.request("GET", "/flows/reports/runs", eager).status_code == 200  # reads are not limited
