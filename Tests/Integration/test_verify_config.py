"""`gatehouse verify --config FILE --context URL`: the issuers, audiences, keys, algorithms, leeway
and token type in force for a request to URL, chosen by lighttpd's conditions, instead of flags.
Tokens minted by PyJWT."""
import json
import subprocess

import pytest

from gatehouse_testkit.paths import GATEHOUSE
from gatehouse_testkit.tokens import AUDIENCE, ISSUER, Keys


@pytest.fixture
def setup(tmp_path, keys):
    (tmp_path / "partner").mkdir()
    partner = Keys(str(tmp_path / "partner"))
    config = tmp_path / "lighttpd.conf"
    config.write_text(f"""var.jwks = "{keys.jwks_path}"
server.modules += ( "mod_gatehouse" )
gatehouse.issuer   = "{ISSUER}"
gatehouse.audience = "{AUDIENCE}"
gatehouse.jwks     = var.jwks
gatehouse.require  = ( "/" => "authenticated" )
$HTTP["url"] =^ "/partner/" {{
    gatehouse.audience   = "partner-api"
    gatehouse.jwks       = "{partner.jwks_path}"
    gatehouse.algorithms = ( "ES256" )
}}
$HTTP["host"] == "admin.example" {{
    gatehouse.issuer     = "https://admin-idp.example.test/"
    gatehouse.token-type = "at+jwt"
}}
""")
    return keys, partner, str(config)


def verify(config, token, *args):
    result = subprocess.run([GATEHOUSE, "verify", "--config", config, "--token", token, *args],
                            capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout, result.stderr


def test_the_global_settings_apply_to_slash_and_the_output_names_their_lines(setup):
    keys, _, config = setup
    code, out, _ = verify(config, keys.mint())
    assert code == 0 and out.startswith("valid\n")
    assert "settings for a request to /: the global context\n" in out
    assert f"gatehouse.issuer: {config}:3:1" in out and f"gatehouse.jwks: {config}:5:1" in out
    assert "gatehouse.leeway: default" in out


def test_a_condition_replaces_the_audience_keys_and_algorithms(setup):
    keys, partner, config = setup
    code, out, _ = verify(config, partner.mint(alg="ES256"), "--context", "/partner/orders", "--json")
    document = json.loads(out)
    assert code == 1 and document["error"] == "wrong_audience"
    assert [c["condition"] for c in document["config"]["conditions"]] == ['$HTTP["url"] =^ "/partner/"']
    assert document["config"]["directives"]["gatehouse.audience"] == f"{config}:8:5"
    assert document["config"]["directives"]["gatehouse.issuer"] == f"{config}:3:1"
    # The partner's own keys, ES256 only.
    assert verify(config, partner.mint(alg="ES256", aud="partner-api"), "--context", "/partner/x")[0] == 0
    code, out, _ = verify(config, partner.mint(alg="RS256", aud="partner-api"), "--context", "/partner/x")
    assert code == 1 and "algorithm_not_allowed" in out
    code, out, _ = verify(config, keys.mint(alg="ES256", aud="partner-api"), "--context", "/partner/x")
    assert code == 1 and "bad_signature" in out


def test_an_absolute_url_chooses_host_conditions(setup):
    keys, _, config = setup
    admin = "https://admin-idp.example.test/"
    code, out, _ = verify(config, keys.mint(iss=admin), "--context", "https://admin.example/")
    assert code == 1 and out.startswith("invalid: wrong_type"), out
    code, out, _ = verify(config, keys.mint(iss=admin), "--context", "https://admin.example/", "--json")
    assert json.loads(out)["config"]["directives"]["gatehouse.token-type"] == f"{config}:14:5"
    code, out, _ = verify(config, keys.mint(iss=admin), "--context", "https://other.example/")
    assert code == 1 and "wrong_issuer" in out


def test_define_replaces_a_variable_of_the_configuration(setup, tmp_path):
    keys, partner, config = setup
    code, out, _ = verify(config, keys.mint(), "--define", f"jwks={partner.jwks_path}")
    assert code == 1 and "bad_signature" in out
    code, _, err = verify(config, keys.mint(), "--define", f"jwks={tmp_path}/missing.json")
    assert code == 2 and "missing.json" in err and "cannot be read" in err


def test_flags_and_config_do_not_mix(setup):
    keys, _, config = setup
    for flag in (["--jwks", keys.jwks_path], ["--issuer", ISSUER], ["--audience", AUDIENCE],
                 ["--algorithms", "RS256"], ["--leeway", "5"]):
        code, _, err = verify(config, keys.mint(), *flag)
        assert code == 2 and "--config takes the keys" in err and flag[0] in err
    result = subprocess.run([GATEHOUSE, "verify", "--jwks", keys.jwks_path, "--token", keys.mint(),
                             "--context", "/x"], capture_output=True, text=True)
    assert result.returncode == 2 and "go with --config" in result.stderr


def test_a_context_without_keys_or_issuer_is_a_usage_error(tmp_path, keys):
    config = tmp_path / "bare.conf"
    config.write_text(f'server.modules += ( "mod_gatehouse" )\ngatehouse.issuer = "{ISSUER}"\n')
    code, _, err = verify(str(config), keys.mint())
    assert code == 2 and "no gatehouse.jwks or gatehouse.hmac-secret-file applies to a request to /" in err
    config.write_text(f'server.modules += ( "mod_gatehouse" )\ngatehouse.jwks = "{keys.jwks_path}"\n')
    code, _, err = verify(str(config), keys.mint())
    assert code == 2 and "no gatehouse.issuer applies" in err


def test_a_claim_of_another_type_than_the_schema_declares_is_invalid(setup, lighttpd, keys):
    """A token the module refuses 403 claim_type_mismatch is not reported valid."""
    _, _, config = setup
    schema = '$HTTP["url"] =^ "/teams/" {\n    gatehouse.claims-schema = ( "teams" => "array of strings" )\n}\n'
    with open(config, "a") as f:
        f.write(schema)
    wrong, right = keys.mint(teams="red"), keys.mint(teams=["red"])
    code, out, _ = verify(config, wrong, "--context", "/teams/x")
    assert code == 1 and out.startswith(
        'invalid: claim_type_mismatch: claim "teams" is a string, not an array of strings'), out
    assert f"gatehouse.claims-schema: {config}:" in out
    code, out, _ = verify(config, wrong, "--context", "/teams/x", "--json")
    document = json.loads(out)
    assert code == 1 and (document["valid"], document["error"]) == (False, "claim_type_mismatch")
    assert verify(config, right, "--context", "/teams/x")[0] == 0
    assert verify(config, wrong, "--context", "/other")[0] == 0  # (no schema there)
    assert verify(config, wrong, "--context", "/teams/x", "--signature-only")[0] == 0
    # What the module answers for the same token and request.
    lighttpd.start('gatehouse.require = ( "/teams/" => "claims.teams contains \'red\'" )\n' + schema)
    response = lighttpd.get("/teams/x", token=wrong)
    assert response.status_code == 403 and 'claim "teams" is a string, not an array of strings' in lighttpd.log()
    assert lighttpd.get("/teams/x", token=right).status_code == 404
