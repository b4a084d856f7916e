"""Browser sign-in in a real browser: headless Chromium signs in through oidc-provider-mock's
login page, lands on the page it asked for, calls the API from the page with its session, logs
out at the provider, and is sent to sign in again."""
import json
import os

import pytest
import requests
from selenium.webdriver.common.by import By

from gatehouse_testkit.browser import chromium, screenshot, sign_in_at_provider, wait
from gatehouse_testkit.sign_in import SignInSite

pytestmark = pytest.mark.e2e

APP = """<!doctype html>
<html><head><title>private app</title></head>
<body>
<h1>private app</h1>
<pre id="who">loading</pre>
<pre id="change">not yet</pre>
<script>
fetch("/api/who", {headers: {"Accept": "application/json"}})
  .then(r => r.json().then(body => ({status: r.status, body})))
  .then(({status, body}) => { document.getElementById("who").textContent = JSON.stringify({status, body}); });
fetch("/api/change", {method: "POST", headers: {"Accept": "application/json"}, body: "x=1"})
  .then(r => { document.getElementById("change").textContent = "status " + r.status; });
</script>
</body></html>
"""


@pytest.fixture(scope="module")
def driver():
    browser = chromium()
    yield browser
    browser.quit()


@pytest.fixture
def site(tmp_path, backend, provider):
    server = SignInSite(str(tmp_path), backend, provider)
    with open(os.path.join(server.docroot, "private", "app.html"), "w") as f:
        f.write(APP)
    server.start(server.policy())
    yield server
    server.stop()


def test_sign_in_xhr_logout_and_sign_in_again_in_chromium(driver, site):
    driver.delete_all_cookies()
    driver.get(site.url("/private/app.html?tab=2"))
    sign_in_at_provider(driver, site.provider.issuer, "grace")
    wait(driver, lambda d: d.current_url == site.url("/private/app.html?tab=2"))
    assert driver.find_element(By.TAG_NAME, "h1").text == "private app"
    wait(driver, lambda d: d.find_element(By.ID, "who").text != "loading")
    who = json.loads(driver.find_element(By.ID, "who").text)
    assert who["status"] == 200, site.log()
    assert ["X-Auth-Subject", "grace"] in who["body"]["headers"]
    # a POST from the page itself is same-origin: the session is enough
    wait(driver, lambda d: d.find_element(By.ID, "change").text != "not yet")
    assert driver.find_element(By.ID, "change").text == "status 200"
    cookies = {c["name"]: c for c in driver.get_cookies()}
    session = cookies["__Host-gatehouse"]
    assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Lax" and session["path"] == "/"
    assert "__Host-gatehouse-login" not in cookies
    assert driver.execute_script("return document.cookie").find("__Host-gatehouse") == -1  # HttpOnly
    screenshot(driver, "sign-in-private-app")

    # the session does not work from another site's page (CSRF): a cross-origin POST is refused
    answer = requests.post(site.url("/api/change"), timeout=10, headers={
        "Cookie": f"__Host-gatehouse={session['value']}", "Origin": "https://evil.example"})
    assert answer.status_code == 403

    driver.get(site.url("/.gatehouse/logout"))
    wait(driver, lambda d: d.current_url.startswith(site.provider.issuer + "/oauth2/end_session"))
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(driver, lambda d: d.current_url == site.url("/"))
    assert "__Host-gatehouse" not in {c["name"] for c in driver.get_cookies()}
    driver.get(site.url("/private/app.html"))
    wait(driver, lambda d: d.current_url.startswith(site.provider.issuer + "/oauth2/authorize"))
    assert driver.find_elements(By.NAME, "sub")
