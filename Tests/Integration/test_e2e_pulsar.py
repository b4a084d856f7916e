"""Pulsar's admin REST API (a stand-in: Pulsar cannot be installed here) behind lighttpd +
mod_gatehouse, configured by examples/pulsar.conf: each caller is scoped to the tenant in its
token, superusers work across tenants. Tokens from the real OpenID Connect provider."""
import os
import sys

import pytest

from gatehouse_testkit.e2e import guarded
from gatehouse_testkit.paths import ROOT

pytestmark = pytest.mark.e2e

STANDIN = os.path.join(ROOT, "examples", "backends", "pulsar_admin_standin.py")


@pytest.fixture(scope="module")
def pulsar(tmp_path_factory, provider):
    with guarded("pulsar", tmp_path_factory, provider,
                 lambda port, _: [sys.executable, STANDIN, "--port", str(port)]) as (site, tap):
        yield site, tap, {
            "acme-admin": provider.token("ana", "pulsar-admin", tenant="acme", roles=["tenant-admin"]),
            "acme-member": provider.token("max", "pulsar-admin", tenant="acme", roles=[]),
            "globex-admin": provider.token("gil", "pulsar-admin", tenant="globex", roles=["tenant-admin"]),
            "superuser": provider.token("root-ops", "pulsar-admin", roles=["pulsar-superuser"]),
        }


TOPIC = "/admin/v2/persistent/acme/default/payments"


def test_a_tenant_admin_manages_topics_of_its_own_tenant(pulsar):
    site, tap, tokens = pulsar
    assert site.request("PUT", TOPIC, tokens["acme-admin"]).status_code == 204
    seen = tap.last("PUT", TOPIC)["headers"]
    assert seen["x-auth-subject"] == ["ana"] and seen["x-auth-tenant"] == ["acme"]
    listed = site.request("GET", "/admin/v2/persistent/acme/default", tokens["acme-member"])
    assert listed.status_code == 200 and "persistent://acme/default/payments" in listed.json()
    assert site.request("GET", TOPIC + "/stats", tokens["acme-member"]).json()["publishers"] == []
    assert site.request("GET", "/admin/v2/tenants/acme", tokens["acme-member"]).status_code == 200
    # a member without tenant-admin reads, but does not change
    assert site.request("DELETE", TOPIC, tokens["acme-member"]).status_code == 403
    assert site.request("PUT", "/admin/v2/namespaces/acme/staging", tokens["acme-member"]).status_code == 403
    assert site.request("PUT", "/admin/v2/namespaces/acme/staging", tokens["acme-admin"]).status_code == 204


def test_no_tenant_reaches_another_tenant_however_the_path_is_written(pulsar):
    site, tap, tokens = pulsar
    before = len(tap.requests)
    for path in ("/admin/v2/tenants/globex", "/admin/v2/persistent/globex/default",
                 "/admin/v2/persistent/globex/default/invoices/stats", "/admin/v2/namespaces/globex",
                 "/admin/v2/persistent/ACME/default"):
        assert site.request("GET", path, tokens["acme-admin"]).status_code == 403, path
    # lighttpd decodes %2F and resolves dot segments before the rules see the path; a NUL is refused
    for path in ("/admin/v2/persistent/acme/../globex/default", "/admin/v2/persistent/acme%2F..%2Fglobex/default",
                 "/admin/v2/persistent/acme/%2E%2E/globex/default", "/admin/v2/persistent/acme/./../globex/default"):
        assert site.raw("GET", path, tokens["acme-admin"]) == 403, path
    assert site.raw("GET", "/admin/v2/persistent/acme%00/default", tokens["acme-admin"]) == 400
    # Jetty reads ";" as the start of a path parameter: "..;" is ".." to it, but not to lighttpd;
    # such paths are refused before any rule (gatehouse.path-checks)
    for path in ("/admin/v2/persistent/acme/..;/globex/default", "/admin/v2/persistent/acme;x/default"):
        assert site.raw("GET", path, tokens["acme-admin"]) == 400, path
        assert site.raw("GET", path, tokens["superuser"]) == 400, path
    assert site.request("DELETE", "/admin/v2/persistent/globex/default/invoices",
                        tokens["acme-admin"]).status_code == 403
    assert len(tap.requests) == before  # none of it reached the broker
    denied = [r for r in site.audit() if r["sub"] == "ana" and r["decision"] == "deny"]
    assert {r["path"] for r in denied} >= {"/admin/v2/tenants/globex", "/admin/v2/persistent/globex/default"}
    assert [r["path"] for r in denied].count("/admin/v2/persistent/globex/default") == 5  # the tricks, resolved
    assert all(r["status"] == 403 and r["reason"] == "policy_denied" for r in denied)


def test_only_tenant_admins_read_message_contents(pulsar):
    site, tap, tokens = pulsar
    topic = "/admin/v2/persistent/acme/default/orders"
    before = len(tap.requests)
    for contents in (f"{topic}/subscription/audit/position/1", f"{topic}/examinemessage?initialPosition=latest",
                     f"{topic}/ledger/7/entry/0"):
        assert site.request("GET", contents, tokens["acme-member"]).status_code == 403, contents
    assert len(tap.requests) == before
    peek = site.request("GET", f"{topic}/subscription/audit/position/1", tokens["acme-admin"])
    assert peek.status_code == 404 and len(tap.requests) == before + 1  # let through; the stand-in has no route
    assert site.request("GET", f"{topic}/stats", tokens["acme-member"]).status_code == 200  # metadata is fine


def test_superusers_work_across_tenants_and_alone_manage_tenants(pulsar):
    site, tap, tokens = pulsar
    assert set(site.request("GET", "/admin/v2/tenants", tokens["superuser"]).json()) >= {"acme", "globex"}
    assert site.request("GET", "/admin/v2/persistent/globex/default", tokens["superuser"]).status_code == 200
    assert site.request("PUT", "/admin/v2/tenants/initech", tokens["superuser"], json={}).status_code == 204
    assert tap.last("PUT", "/admin/v2/tenants/initech")["headers"]["x-auth-subject"] == ["root-ops"]
    for who in ("acme-admin", "globex-admin"):
        assert site.request("GET", "/admin/v2/tenants", tokens[who]).status_code == 403
        assert site.request("PUT", "/admin/v2/tenants/evil", tokens[who], json={}).status_code == 403
        assert site.request("DELETE", "/admin/v2/tenants/acme", tokens[who]).status_code == 403
    # a tenant admin of globex is a stranger in acme
    assert site.request("PUT", "/admin/v2/persistent/acme/default/x", tokens["globex-admin"]).status_code == 403


def test_a_token_without_a_tenant_or_for_another_audience_is_refused(pulsar, provider):
    site, tap, _ = pulsar
    before = len(tap.requests)
    no_tenant = provider.token("nobody", "pulsar-admin", roles=["tenant-admin"])
    assert site.request("GET", "/admin/v2/tenants/acme", no_tenant).status_code == 403
    other_api = provider.token("ana", "prefect", tenant="acme", roles=["tenant-admin"])
    assert site.request("GET", "/admin/v2/tenants/acme", other_api).status_code == 401
    spoofed = site.request("GET", "/admin/v2/tenants/acme", headers={"X-Auth-Tenant": "acme"})
    assert spoofed.status_code == 401
    assert len(tap.requests) == before
