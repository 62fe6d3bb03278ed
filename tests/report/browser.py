"""Headless Chromium for the report's browser tests (Debian's chromium and chromium-driver,
driven by selenium; no browser is downloaded). ``browser()`` is None where none can be had."""

from __future__ import annotations

import os
import shutil

BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
DRIVERS = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")


def find(paths, name):
    found = next((p for p in paths if os.path.exists(p)), None)
    return found or shutil.which(name)


def browsers() -> tuple[str, ...]:
    """Where to look for Chromium; ARCHCALC_CHROMIUM names one path instead (the test that a
    missing browser fails CI points it nowhere)."""
    chosen = os.environ.get("ARCHCALC_CHROMIUM")
    return (chosen,) if chosen else BROWSERS


def missing() -> str | None:
    """Why no browser can be had here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install \".[test]\")"
    if find(browsers(), "chromium" if not os.environ.get("ARCHCALC_CHROMIUM") else "\0") is None:
        return "no chromium (apt-get install chromium chromium-driver)"
    if find(DRIVERS, "chromedriver") is None:
        return "no chromedriver (apt-get install chromium-driver)"
    return None


def start(width: int = 1400, height: int = 1000):
    """A headless Chromium that records console messages and network requests."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = find(browsers(), "chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 f"--window-size={width},{height}", "--no-first-run", "--disable-extensions",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--hide-scrollbars"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=find(DRIVERS, "chromedriver")), options=options)


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def network_requests(driver) -> list[str]:
    """Every URL the page asked for beyond its own file (performance log: Network.requestWillBeSent)."""
    import json

    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls
