"""Hardening of the core against the real lighttpd: `contains` as documented, key sets with
keys for other uses, identity values that change meaning downstream, rate-limit buckets."""
import json
import os
import time

from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


def public_jwk(key, **members):
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(members)
    return jwk


def wait_for(condition, seconds=10):
    deadline = time.time() + seconds
    while not condition() and time.time() < deadline:
        time.sleep(0.2)
    return condition()


# --- contains: a substring test on strings, membership on lists ----------------------------------

def test_a_deny_list_by_email_domain_refuses_the_domain(lighttpd, keys):
    lighttpd.start("""
gatehouse.require = (
    "/api/" => "authenticated and not claims.email contains '@contractor.example'",
    "/api/beta/" => "request.header.Cookie contains 'beta=1'",
)
""")
    staff = keys.mint(sub="alice", email="alice@example.com")
    contractor = keys.mint(sub="bob", email="bob@contractor.example")
    assert lighttpd.get("/api/x", token=staff).status_code == 200
    refused = lighttpd.get("/api/x", token=contractor)
    assert refused.status_code == 403
    beta = lighttpd.get("/api/beta/x", headers={"Cookie": "a=1; beta=1"})
    assert beta.status_code == 200
    assert lighttpd.get("/api/beta/x", headers={"Cookie": "a=1; beta=2"}).status_code == 403


# --- a JWKS with keys for other uses --------------------------------------------------------------

def keycloak_like_jwks(keys, path):
    """The trusted keys plus what Keycloak publishes beside them: an encryption key."""
    published = json.load(open(keys.jwks_path))["keys"]
    encrypting = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    published.append(public_jwk(encrypting, kid="enc-1", use="enc", alg="RSA-OAEP"))
    path.write_text(json.dumps({"keys": published}))


def test_a_key_for_encryption_is_skipped_with_a_warning_naming_it(lighttpd, keys, tmp_path):
    jwks = tmp_path / "jwks.json"
    keycloak_like_jwks(keys, jwks)
    policy = f'gatehouse.jwks := "{jwks}"\ngatehouse.require = ( "/api/" => "authenticated" )\n'
    code, output = lighttpd.check(policy)
    warning = f'gatehouse.jwks: {jwks}: key #3 (kid "enc-1"): skipped, "use" is "enc"'
    assert code == 0 and warning in output, output
    lighttpd.start(policy)
    assert warning in lighttpd.log()
    assert lighttpd.get("/api/x", token=keys.mint()).status_code == 200
    # a reload of the file says it again
    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    staged = tmp_path / "jwks.new"
    staged.write_text(json.dumps({"keys": [public_jwk(rotated, kid="rsa-2", alg="RS256"),
                                           public_jwk(rotated, kid="enc-2", use="enc")]}))
    os.replace(staged, jwks)
    assert wait_for(lambda: f'{jwks}: key #2 (kid "enc-2"): skipped' in lighttpd.log()), lighttpd.log()
    assert lighttpd.get("/api/x", token=keys.mint(key=rotated, kid="rsa-2")).status_code == 200


def test_a_weak_key_private_material_or_no_usable_key_still_refuse(lighttpd, keys, tmp_path):
    published = json.load(open(keys.jwks_path))["keys"]
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    leaked = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases = [
        (published + [public_jwk(weak, kid="old")], 'key #3 (kid "old"): RSA keys must have at least 2048 bits'),
        (published + [dict(json.loads(RSAAlgorithm.to_jwk(leaked)), kid="enc-9", use="enc")],
         'key #3 (kid "enc-9"): holds private key material'),
        ([public_jwk(leaked, kid="enc-1", use="enc")], "no key can verify signatures"),
    ]
    for number, (content, message) in enumerate(cases):
        jwks = tmp_path / f"jwks-{number}.json"
        jwks.write_text(json.dumps({"keys": content}))
        code, output = lighttpd.check(f'gatehouse.jwks := "{jwks}"\ngatehouse.require = ( "/" => "authenticated" )\n')
        assert code != 0 and message in output, output


# --- identity values that would read differently downstream --------------------------------------

def received(response):
    return {name.lower(): value for name, value in response.json()["headers"]}


def test_identity_values_that_change_meaning_downstream_are_refused(lighttpd, keys):
    audit = os.path.join(lighttpd.folder, "audit.log")
    lighttpd.start(f"""
gatehouse.require = ( "/api/" => "authenticated", "/api/public/" => "anonymous" )
gatehouse.headers = ( "X-Auth-Subject" => "sub", "X-Auth-Roles" => "roles", "X-Auth-Name" => "name" )
gatehouse.audit-log = "{audit}"
""")
    fine = lighttpd.get("/api/x", token=keys.mint(roles=["viewer", "admin"], name="Smith, Alice"))
    assert fine.status_code == 200
    seen = received(fine)
    assert (seen["x-auth-roles"], seen["x-auth-name"]) == ("viewer, admin", "Smith, Alice")
    for claims in ({"roles": "viewer, admin"}, {"sub": "  admin  "}, {"roles": ["viewer", " admin"]}):
        token = keys.mint(**claims)
        refused = lighttpd.get("/api/x", token=token)
        assert refused.status_code == 403 and "WWW-Authenticate" not in refused.headers, claims
        # where the rule does not need the token, the request goes on without the identity
        anonymous = lighttpd.get("/api/public/x", token=token)
        assert anonymous.status_code == 200 and "x-auth-subject" not in received(anonymous)
    refusals = [json.loads(line) for line in open(audit)]
    assert [(r["status"], r["reason"]) for r in refusals] == [(403, "unsafe_claim_value")] * 3
    log = lighttpd.log()
    assert 'claim "roles" has a list element with a comma' in log
    assert 'claim "sub" has a leading or trailing space' in log


# --- rate limits per issuer and subject -----------------------------------------------------------

def test_two_issuers_subjects_of_the_same_name_have_their_own_buckets(lighttpd, keys):
    lighttpd.start("""
gatehouse.issuer := ( "https://idp.example.test/", "https://partner.example.test/" )
gatehouse.require = ( "/api/" => "authenticated", "GET /gatehouse-status" => "request.ip in ['127.0.0.0/8']" )
gatehouse.rate-limit = ( "POST" => "1/minute" )
gatehouse.status-url = "/gatehouse-status"
""")
    ours = keys.mint(sub="alice")
    theirs = keys.mint(sub="alice", iss="https://partner.example.test/")
    assert lighttpd.get("/api/x", token=ours, method="POST").status_code == 200
    assert lighttpd.get("/api/x", token=ours, method="POST").status_code == 429
    assert lighttpd.get("/api/x", token=theirs, method="POST").status_code == 200
    assert lighttpd.get("/api/x", token=theirs, method="POST").status_code == 429
    status = lighttpd.get("/gatehouse-status").text.splitlines()
    assert "gatehouse_rate_limit_evictions_total 0" in status
    assert "gatehouse_rate_limit_overflow_total 0" in status
