"""A real, headless Chromium (Debian's chromium and chromium-driver) driven by Selenium."""
import os

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from gatehouse_testkit.paths import ROOT

SCREENSHOTS = os.path.join(ROOT, "build", "screenshots")


def chromium():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--no-first-run", "--disable-extensions",
                     # loopback only: any other name fails at once (the provider's page links a CDN)
                     "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    # each test's pages come from lighttpd, never from the cache of an earlier sign-in
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    return driver


def wait(driver, condition, timeout=20):
    return WebDriverWait(driver, timeout).until(condition)


def sign_in_at_provider(driver, issuer, sub):
    """On oidc-provider-mock's login page: types the subject and authorizes."""
    wait(driver, lambda d: d.current_url.startswith(issuer + "/oauth2/authorize"))
    field = wait(driver, expected_conditions.presence_of_element_located((By.NAME, "sub")))
    field.send_keys(sub)
    field.submit()


def screenshot(driver, name):
    os.makedirs(SCREENSHOTS, exist_ok=True)
    path = os.path.join(SCREENSHOTS, name + ".png")
    driver.save_screenshot(path)
    return path
