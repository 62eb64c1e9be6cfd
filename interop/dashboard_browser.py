"""Drives the kfwd dashboard in headless Chromium, as a user would."""
import subprocess
import sys

from selenium.webdriver.common.by import By

from browser import say, start

url, kubeconfig = sys.argv[1], sys.argv[2]
driver, wait = start()


def cell(name):
    return driver.find_element(By.CSS_SELECTOR, f'tr[data-alias="web"] .{name}').text


def text_of(selector):
    """An element's text, read again when a redraw replaced it between finding and reading."""
    text = []
    wait.until(lambda _: text.append(driver.find_element(By.CSS_SELECTOR, selector).text) or True)
    return text[-1]


def read(name):
    return text_of(f'tr[data-alias="web"] .{name}')


def click(selector):
    def attempt(_):
        driver.find_element(By.CSS_SELECTOR, selector).click()
        return True
    wait.until(attempt)


try:
    driver.get(url)
    wait.until(lambda _: cell("state"))
    say("address", driver.current_url)
    say("context", text_of("section.context h2"))
    say("state", read("state"))
    # An edit through the form keeps what the form does not show (here the kubeconfig).
    click('tr[data-alias="web"] button.edit')
    driver.find_element(By.ID, "editor-form").find_element(By.NAME, "auto_start").click()
    click("#editor-save")
    wait.until(lambda _: not driver.find_element(By.ID, "editor").get_attribute("open"))
    click('tr[data-alias="web"] button.start')
    # The Deployment's two replicas, both ready (the page redraws as each one comes).
    two_pods = lambda: len([name for name in cell("pods").split(", ") if name]) == 2
    wait.until(lambda _: cell("state") == "running" and two_pods())
    before = read("pods")
    say("running", before)
    subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, "delete", "pods", "-l", "app=web", "--force", "--grace-period=0"],
        check=True, capture_output=True,
    )
    old = set(before.split(", "))
    wait.until(lambda _: cell("state") == "running" and two_pods() and old.isdisjoint(cell("pods").split(", ")))
    say("moved", read("pods"))
    click('tr[data-alias="web"] button.stop')
    wait.until(lambda _: cell("state") == "stopped")
    say("stopped", read("state"))
    wait.until(lambda _: "web: stopped" in driver.find_element(By.ID, "log").text)
    say("log", "web: stopped")

    # Add a forward through the form, then delete it.
    click("#add")
    form = driver.find_element(By.ID, "editor-form")
    form.find_element(By.NAME, "alias").send_keys("api")
    form.find_element(By.NAME, "name").send_keys("web")
    form.find_element(By.NAME, "local_port").send_keys("0")
    form.find_element(By.NAME, "remote_port").send_keys("80")
    click("#editor-save")
    wait.until(lambda _: driver.find_element(By.CSS_SELECTOR, 'tr[data-alias="api"] .ports').text == "0:80/tcp")
    say("added", text_of('tr[data-alias="api"] .target'))
    click('tr[data-alias="api"] button.delete')
    wait.until(lambda _: driver.switch_to.alert).accept()
    wait.until(lambda _: not driver.find_elements(By.CSS_SELECTOR, 'tr[data-alias="api"]'))
    say("deleted", "api")
finally:
    driver.quit()
