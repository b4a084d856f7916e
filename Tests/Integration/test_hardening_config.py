"""Configuration that should not start, and settings a client could choose: `lighttpd -tt` (the module's
set_defaults) and `gatehouse lint` (the CLI) each refuse or warn, naming the directive and the value."""
import subprocess

import pytest

from gatehouse_testkit.paths import GATEHOUSE


POLICY = 'gatehouse.require = ( "/api/public/" => "anonymous", "/api/" => "role:admin" )\n'


def lint(lighttpd, policy):
    """`gatehouse lint` on the same lighttpd.conf `lighttpd -tt` reads: (exit code, output)."""
    result = subprocess.run([GATEHOUSE, "lint", "--config", lighttpd.config(policy)],
                            capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout + result.stderr


def refused_by_both(lighttpd, policy, *expected):
    """Both refuse the configuration, each with every expected text in its output."""
    code, output = lighttpd.check(policy)
    assert code != 0, output
    for text in expected:
        assert text in output, output
    code, output = lint(lighttpd, policy)
    assert code == 1, output
    for text in expected:
        assert text in output, output


@pytest.mark.parametrize("name", ["Authorization", "Host", "Content-Length", "Transfer-Encoding", "Connection",
                                  "Cookie", "Upgrade", "TE", "Proxy-Authorization", "Content-Type",
                                  "content_length"])
def test_identity_headers_that_carry_the_request_itself_are_refused(lighttpd, name):
    refused_by_both(lighttpd, POLICY + f'gatehouse.headers = ( "X-Auth-Subject" => "sub", "{name}" => "email" )\n',
                    f'gatehouse.headers: "{name}" carries the request itself', f'like "X-Auth-{name}"')


@pytest.mark.parametrize("name, why", [
    ("LD_PRELOAD", "changes how the backend's programs run"),
    ("LD_LIBRARY_PATH", "changes how the backend's programs run"),
    ("PATH", "changes how the backend's programs run"),
    ("IFS", "changes how the backend's programs run"),
    ("BASH_ENV", "changes how the backend's programs run"),
    ("PHP_VALUE", "changes how the backend's programs run"),
    ("HTTP_X_USER", "is set by lighttpd itself"),
    ("SERVER_NAME", "is set by lighttpd itself"),
    ("auth_email", "is not a valid environment variable name"),
])
def test_environment_names_a_claim_must_not_set_are_refused(lighttpd, name, why):
    refused_by_both(lighttpd, POLICY + f'gatehouse.env = ( "REMOTE_USER" => "sub", "{name}" => "email" )\n',
                    f'gatehouse.env: "{name}" {why}')


@pytest.mark.parametrize("first, second", [
    ("header:X-Access-Token", "header:X-Access-Token"),
    ("header:X-Access-Token", "header:x_access_token"),
    ("header:Authorization", "header:authorization"),
    ("cookie:session", "cookie:Session"),
    ("query:access_token", "query:access_token"),
])
def test_a_token_source_listed_twice_is_refused(lighttpd, first, second):
    refused_by_both(lighttpd, POLICY + f'gatehouse.token-sources = ( "{first}", "{second}" )\n',
                    f'gatehouse.token-sources: "{first}" and "{second}" read the same place', "list each source once")


@pytest.mark.parametrize("path", ["/", "gatehouse-status", "/a//status", "/a/../status", "/status%2f"])
def test_a_status_url_that_is_not_a_path_of_its_own_is_refused(lighttpd, path):
    refused_by_both(lighttpd, POLICY + f'gatehouse.status-url = "{path}"\n',
                    f'gatehouse.status-url: expected a path of its own such as "/gatehouse-status"', f'got "{path}"')


def test_an_audit_log_in_a_missing_folder_is_refused_but_a_pipe_is_not(lighttpd, tmp_path):
    target = tmp_path / "missing" / "audit.log"
    refused_by_both(lighttpd, POLICY + f'gatehouse.audit-log = "{target}"\n',
                    f'gatehouse.audit-log: the folder "{target.parent}" of "{target}" does not exist')
    code, output = lighttpd.check(POLICY + f'gatehouse.audit-log = "|cat >> {target}"\n')
    assert code == 0, output
    assert lint(lighttpd, POLICY + f'gatehouse.audit-log = "|cat >> {target}"\n')[0] == 0


@pytest.mark.parametrize("directive, written, wrapped", [
    ("gatehouse.leeway", "2147483648", "-2147483648"),
    ("gatehouse.cache-size", "4294967295", "-1"),
    ("gatehouse.max-token-age", "2147483647 + 1", "-2147483648"),
])
def test_numbers_that_wrap_around_in_lighttpd_are_out_of_range(lighttpd, directive, written, wrapped):
    refused_by_both(lighttpd, POLICY + f"{directive} = {written}\n",
                    f"{directive}: {wrapped} is out of range: lighttpd keeps numbers in 32 bits")


@pytest.mark.parametrize("key, meant", [
    ("Gatehouse.Require", "gatehouse.require"),
    ("GATEHOUSE.REQUIRE", "gatehouse.require"),
    ("Gatehouse.Requires", "gatehouse.require"),
    ("gatehouse.requires", "gatehouse.require"),
    ("gatehouse.Status-URL", "gatehouse.status-url"),
])
def test_keys_in_another_letter_case_or_misspelt_name_the_directive_meant(lighttpd, key, meant):
    # lighttpd finds keys in any letter case: "Gatehouse.Require" would replace the rules below.
    refused_by_both(lighttpd, POLICY.replace("gatehouse.require", key),
                    f"unknown directive {key}: did you mean {meant}?")


REPORT_ONLY_BY_HOST = '$HTTP["host"] == "new.example.com" { gatehouse.mode = "report-only" }\n'
WARNING = ('gatehouse.mode is set under $HTTP["host"] == "new.example.com", which the client decides alone '
           '(by the Host header): any client can pick this value or the one outside the block')


def test_report_only_chosen_by_the_host_header_is_a_warning_from_both(lighttpd):
    code, output = lighttpd.check(POLICY + REPORT_ONLY_BY_HOST)
    assert code == 0, output
    assert "WARNING: " + WARNING in output
    code, output = lint(lighttpd, POLICY + REPORT_ONLY_BY_HOST)
    assert code == 0, output
    assert "warning: " + WARNING in output and "0 errors, 1 warning" in output


@pytest.mark.parametrize("block, condition, sent_by", [
    ('$HTTP["host"] == "a.example" { } else { gatehouse.require = ( "/" => "anonymous" ) }',
     '$HTTP["host"] == "a.example"', "the Host header"),
    ('$REQUEST_HEADER["X-Beta"] == "1" { gatehouse.default = "authenticated" }',
     '$REQUEST_HEADER["X-Beta"] == "1"', "the X-Beta header"),
    ('$HTTP["querystring"] =~ "debug" { gatehouse.cors-preflight = ( "origins" => "https://a.example" ) }',
     '$HTTP["querystring"] =~ "debug"', "the query string"),
    ('$HTTP["useragent"] =~ "Bot" { $HTTP["url"] =^ "/api/" { gatehouse.require = ( "/" => "anonymous" ) } }',
     '$HTTP["useragent"] =~ "Bot"', "the User-Agent header"),
    ('$HTTP["request-method"] == "GET" { gatehouse.require = ( "/" => "anonymous" ) }',
     '$HTTP["request-method"] == "GET"', "the request method"),
])
def test_every_condition_the_client_decides_alone_is_named_in_the_warning(lighttpd, block, condition, sent_by):
    warning = f"is set under {condition}, which the client decides alone (by {sent_by})"
    code, output = lighttpd.check(POLICY + block + "\n")
    assert code == 0 and warning in output, output
    code, output = lint(lighttpd, POLICY + block + "\n")
    assert code == 0 and warning in output and "1 warning" in output, output


@pytest.mark.parametrize("block", [
    '$HTTP["url"] =^ "/beta/" { gatehouse.mode = "report-only" }',
    '$HTTP["remoteip"] == "10.0.0.0/8" { gatehouse.mode = "report-only" }',
    '$SERVER["socket"] == "127.0.0.1:1" { gatehouse.mode = "report-only" }',
    '$HTTP["request-method"] =~ "^(GET|HEAD)$" { gatehouse.token-sources = ( "header:Authorization", '
    '"cookie:gatehouse_token" ) }',
    '$HTTP["host"] == "a.example" { gatehouse.headers = ( "X-Auth-Subject" => "sub" ) }',
])
def test_conditions_the_client_does_not_decide_alone_and_settings_that_let_no_one_through_are_quiet(
        lighttpd, block):
    code, output = lighttpd.check(POLICY + block + "\n")
    assert code == 0 and "decides alone" not in output, output
    code, output = lint(lighttpd, POLICY + block + "\n")
    assert code == 0 and "0 errors, 0 warnings" in output, output


def test_a_number_that_wraps_to_a_small_one_is_a_lint_warning(lighttpd):
    # lighttpd reads 4294967296 as 0, a valid leeway: -tt cannot tell, lint reads the digits and says so.
    code, output = lint(lighttpd, POLICY + "gatehouse.leeway = 4294967296\n")
    assert code == 0 and "warning: 4294967296 does not fit lighttpd's 32-bit integers: lighttpd reads it as 0" \
        in output, output
