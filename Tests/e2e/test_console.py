"""The web console in a real browser (Debian's headless Chromium through chromedriver): sign in
with the admin key, make a key for a colleague with a $20 budget, watch it work and spend through
the official SDK, look at providers, spend and the log, revoke it and see it refused. Screenshots
of each step go to test-artifacts/console/."""
import shutil
import time

import openai
import pytest
from selenium import webdriver
from selenium.common.exceptions import ElementNotInteractableException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ADMIN_KEY, ROOT, start_admin_gateway

ARTIFACTS = ROOT / "test-artifacts" / "console"
HI = [{"role": "user", "content": "Hi"}]


@pytest.fixture
def browser():
    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    assert chromium and driver_path, "the console test needs Debian's chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1400,1000", "--disable-extensions", "--no-first-run"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(20)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def shot(driver, name: str) -> None:
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def test_an_operator_makes_watches_and_revokes_a_key_in_the_console(binary, upstream, browser):
    gw, admin = start_admin_gateway(binary, upstream.server_address[1], {"LOG_LEVEL": "info"})
    wait = WebDriverWait(browser, 10, ignored_exceptions=[StaleElementReferenceException, ElementNotInteractableException])
    patient = WebDriverWait(browser, 15, ignored_exceptions=[StaleElementReferenceException, ElementNotInteractableException])
    try:
        browser.get(admin.base + "/")
        assert browser.title == "Switchyard console"
        shot(browser, "01-sign-in")

        # A wrong key is refused and the console stays closed.
        browser.find_element(By.ID, "admin-key").send_keys("not-the-key")
        browser.find_element(By.ID, "sign-in").click()
        wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "signin-error"), "not the admin key"))
        assert not browser.find_element(By.ID, "app").is_displayed()

        field = browser.find_element(By.ID, "admin-key")
        field.clear()
        field.send_keys(ADMIN_KEY)
        browser.find_element(By.ID, "sign-in").click()
        wait.until(expected_conditions.visibility_of_element_located((By.ID, "create-form")))

        # A key for a colleague with a $20 monthly budget; its secret is shown once.
        browser.find_element(By.ID, "new-key-name").send_keys("colleague")
        browser.find_element(By.ID, "new-key-team").send_keys("research")
        browser.find_element(By.ID, "new-key-budget").send_keys("20")
        browser.find_element(By.ID, "create-key").click()
        wait.until(lambda d: d.find_element(By.ID, "new-secret").text.startswith("sy-"))
        secret = browser.find_element(By.ID, "new-secret").text
        row = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, 'tr[data-key-name="colleague"]'))
        assert "$20.00 / month" in row.text and "active" in row.text
        shot(browser, "02-key-created")

        # The key works against the API, with the official SDK, and spends.
        client = openai.OpenAI(base_url=gw.base_url, api_key=secret, max_retries=0, timeout=20)
        for _ in range(3):
            assert client.chat.completions.create(model="gpt-4o", messages=HI).choices[0].message.content
        def spent(driver):
            driver.find_element(By.ID, "tab-keys").click()
            time.sleep(0.2)
            cells = driver.find_element(By.CSS_SELECTOR, 'tr[data-key-name="colleague"]').find_elements(By.TAG_NAME, "td")
            return cells[5].text if cells[5].text.startswith("$0.0") and cells[5].text != "$0.0000" else False
        assert patient.until(spent)
        shot(browser, "03-key-spending")

        # Providers with their health, spend by key as a table and a chart, the recent log lines.
        browser.find_element(By.ID, "tab-providers").click()
        wait.until(lambda d: "openai" in d.find_element(By.ID, "providers-table").text)
        shot(browser, "04-providers")
        browser.find_element(By.ID, "tab-spend").click()
        wait.until(lambda d: "colleague" in d.find_element(By.ID, "spend-table").text)
        assert browser.find_elements(By.CSS_SELECTOR, "#spend-chart rect")
        shot(browser, "05-spend")
        browser.find_element(By.ID, "tab-log").click()
        wait.until(lambda d: "gateway key created" in d.find_element(By.ID, "log-lines").text)
        assert secret not in browser.find_element(By.ID, "log-lines").text
        shot(browser, "06-log")

        # Revoke: the next request with the key is refused.
        browser.find_element(By.ID, "tab-keys").click()
        # The table is drawn again when the tab opens: retry until the button clicked is the drawn one.
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, 'tr[data-key-name="colleague"] button.revoke').click()
                   or True)
        wait.until(expected_conditions.alert_is_present()).accept()
        wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "message"), "Revoked colleague"))
        # The message comes before the table is drawn again without the key.
        wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, 'tr[data-key-name="colleague"]'))
        browser.find_element(By.ID, "show-revoked").click()
        row = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, 'tr[data-key-name="colleague"]'))
        assert "revoked" in row.text
        shot(browser, "07-key-revoked")
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(model="gpt-4o", messages=HI)
    finally:
        gw.stop()
