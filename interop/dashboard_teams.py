"""Drives the kfwd dashboard's team features in headless Chromium: grouping by tag, the
filter, and importing the forwards the cluster's Services propose."""
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser import say, start

url = sys.argv[1]
driver, wait = start()


def texts(selector):
    found = []
    wait.until(lambda _: found.append([node.text for node in driver.find_elements(By.CSS_SELECTOR, selector)]) or True)
    return found[-1]


def aliases():
    return texts("tr[data-alias] .alias")


try:
    driver.get(url)
    wait.until(lambda _: len(aliases()) == 3)
    say("groups", "|".join(texts("section.context h2")))
    Select(driver.find_element(By.ID, "group-by")).select_by_value("tag")
    wait.until(lambda _: any(title.startswith("Tag: ") for title in texts("section.context h2")))
    say("tag-groups", "|".join(texts("section.context h2")))
    say("tags", texts('tr[data-alias="db"] .tags')[0])
    driver.find_element(By.ID, "filter").send_keys("DATA")
    wait.until(lambda _: aliases() == ["db"])
    say("filtered", ",".join(aliases()))
    driver.find_element(By.ID, "filter").clear()
    driver.execute_script("document.getElementById('filter').dispatchEvent(new Event('input'))")
    wait.until(lambda _: len(aliases()) == 3)

    driver.find_element(By.ID, "discover").click()
    wait.until(lambda _: driver.find_element(By.ID, "discovery").get_attribute("open") is not None)
    say("preview", driver.find_element(By.ID, "discovery-summary").text.replace("\n", "|"))
    say("before-import", ",".join(sorted(aliases())))
    driver.find_element(By.ID, "discovery-import").click()
    wait.until(lambda _: "docs" in aliases())
    say("imported", ",".join(sorted(aliases())))
finally:
    driver.quit()
