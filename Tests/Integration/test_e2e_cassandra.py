"""A REST API over Cassandra, shaped like Stargate's REST API v2 (a stand-in over SQLite:
Cassandra cannot be installed here), behind lighttpd + mod_gatehouse, configured by
examples/cassandra-api.conf: readers read, writers write, each within the keyspaces its token
lists. Tokens from the real OpenID Connect provider."""
import os
import sys

import pytest

from gatehouse_testkit.e2e import guarded
from gatehouse_testkit.paths import ROOT

pytestmark = pytest.mark.e2e

STANDIN = os.path.join(ROOT, "examples", "backends", "cassandra_rest_standin.py")


@pytest.fixture(scope="module")
def api(tmp_path_factory, provider):
    def backend(port, folder):
        return [sys.executable, STANDIN, "--port", str(port), "--db", os.path.join(folder, "rows.db")]

    with guarded("cassandra-api", tmp_path_factory, provider, backend) as (site, tap):
        yield site, tap, {
            "writer": provider.token("wanda", "orders-api", roles=["writer"], keyspaces=["shop"]),
            "reader": provider.token("rita", "orders-api", roles=["reader"], keyspaces=["shop"]),
            "other-writer": provider.token("otto", "orders-api", roles=["writer"], keyspaces=["billing"]),
        }


def test_writers_write_and_the_api_records_who(api):
    site, tap, tokens = api
    made = site.request("POST", "/v2/keyspaces/shop/orders", tokens["writer"], json={"id": "o-1", "total": 42})
    assert made.status_code == 201, made.text
    assert tap.last("POST", "/v2/keyspaces/shop/orders")["headers"]["x-auth-subject"] == ["wanda"]
    row = site.request("GET", "/v2/keyspaces/shop/orders/o-1", tokens["reader"])
    assert row.status_code == 200 and row.json()["data"] == [{"id": "o-1", "total": 42, "_written_by": "wanda"}]
    changed = site.request("PUT", "/v2/keyspaces/shop/orders/o-1", tokens["writer"], json={"total": 43})
    assert changed.status_code == 200 and changed.json()["data"]["total"] == 43
    assert site.request("DELETE", "/v2/keyspaces/shop/orders/o-1", tokens["writer"]).status_code == 204
    allowed = [r for r in site.audit() if r["sub"] == "wanda"]
    assert [r["method"] for r in allowed] == ["POST", "PUT", "DELETE"]
    assert all(r["rule"] == "/v2/keyspaces/{keyspace}" for r in allowed)


def test_readers_read_but_never_write(api):
    site, tap, tokens = api
    assert site.request("POST", "/v2/keyspaces/shop/orders", tokens["writer"],
                        json={"id": "o-2", "total": 1}).status_code == 201
    listed = site.request("GET", "/v2/keyspaces/shop/orders/rows", tokens["reader"])
    assert listed.status_code == 200 and "o-2" in [r["id"] for r in listed.json()["data"]]
    before = len(tap.requests)
    assert site.request("POST", "/v2/keyspaces/shop/orders", tokens["reader"],
                        json={"id": "o-3"}).status_code == 403
    assert site.request("PUT", "/v2/keyspaces/shop/orders/o-2", tokens["reader"],
                        json={"total": 0}).status_code == 403
    assert site.request("DELETE", "/v2/keyspaces/shop/orders/o-2", tokens["reader"]).status_code == 403
    assert len(tap.requests) == before
    denied = [r for r in site.audit() if r["sub"] == "rita" and r["decision"] == "deny"]
    assert [r["method"] for r in denied] == ["POST", "PUT", "DELETE"]
    assert site.request("GET", "/v2/keyspaces/shop/orders/o-2", tokens["reader"]).json()["data"][0]["total"] == 1


def test_a_writer_of_one_keyspace_cannot_touch_another(api):
    site, tap, tokens = api
    before = len(tap.requests)
    assert site.request("GET", "/v2/keyspaces/shop/orders/rows", tokens["other-writer"]).status_code == 403
    assert site.request("POST", "/v2/keyspaces/shop/orders", tokens["other-writer"],
                        json={"id": "x"}).status_code == 403
    assert len(tap.requests) == before
    assert site.request("POST", "/v2/keyspaces/billing/invoices", tokens["other-writer"],
                        json={"id": "i-1"}).status_code == 201


def test_no_token_a_forged_one_or_a_forged_identity_header_gets_401(api, provider, keys):
    site, tap, _ = api
    before = len(tap.requests)
    assert site.request("GET", "/v2/keyspaces/shop/orders/rows").status_code == 401
    spoofed = site.request("POST", "/v2/keyspaces/shop/orders", json={"id": "s"},
                           headers={"X-Auth-Subject": "wanda"})
    assert spoofed.status_code == 401
    # a token signed by another key, claiming the provider as issuer
    forged = keys.mint(iss=provider.issuer, aud="orders-api", sub="wanda", roles=["writer"], keyspaces=["shop"])
    answer = site.request("POST", "/v2/keyspaces/shop/orders", forged, json={"id": "f"})
    assert answer.status_code == 401 and 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    assert len(tap.requests) == before
