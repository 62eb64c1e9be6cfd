"""Headless Chromium for the dashboard scripts, and a wait that reads again when the page
redraws under it."""
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait


def start():
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    # The page redraws its rows from every event: an element found a moment ago may be gone.
    wait = WebDriverWait(driver, 60, ignored_exceptions=[NoSuchElementException, StaleElementReferenceException])
    return driver, wait


def say(*words):
    print(*words, flush=True)
