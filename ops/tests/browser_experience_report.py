#!/usr/bin/env python3
"""The experience report in a real browser (issue 21), after browser_test.py.

Usage: KW_ADMIN_PASSWORD=... KW_BIN=... browser_experience_report.py BASE_URL [SCREENSHOT_DIR]

The coordinator starts the report for the last completed half-year (the default the form offers), writes its sections on
a phone (390 px) beside the period's figures and saves ("Gespeichert um"), tries to release without confirming (the page
says what is missing), confirms and releases (the page says the figures are frozen), opens the print page (no
navigation when printed) and downloads the Markdown file (an attachment named with district and period, counts only).
A steering member reads the released report. axe (no serious or critical finding) at 1280 and 390 px on every page.
"""
import sys
import urllib.error
import urllib.request

from selenium.webdriver.common.by import By

import browser_test as b

STEERING_EMAIL = "lenkung.bericht@witten.test"
SECTIONS = ["starting_point", "coordination", "case_management", "residence", "structural_problems", "outlook"]


def download(driver, path):
    """GET with the browser's session cookie: status, headers, text."""
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    request = urllib.request.Request(b.BASE + path, headers={"Cookie": cookies})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def coordinator_writes_and_releases(driver):
    b.step("the coordinator starts the report for the last completed half-year")
    b.sign_in(driver, b.COORDINATOR_EMAIL, b.CM_PASSWORD)
    b.open_page(driver, "/erfahrungsberichte")
    b.check("Erfahrungsberichte" in b.page_text(driver), "the list page")
    b.axe_both_widths(driver, "erfahrungsberichte")
    form = b.element(driver, "form#start")
    period = form.find_element(By.ID, "halbjahr").get_attribute("value")
    b.check(period.endswith(("-1", "-2")), f"a half-year is offered ({period})")
    b.submit(driver, form)
    b.check(b.path_of(driver) == f"/erfahrungsberichte/{period}", "the report's page opens")
    b.check("Begonnen" in b.page_text(driver), "starting says what it did")
    b.check(driver.find_elements(By.CSS_SELECTOR, "#starting_point-heading ~ .report-figures table, .report-figures table"),
            "the figures stand beside the sections")
    b.axe_both_widths(driver, "erfahrungsbericht-entwurf")

    b.step("she writes every section on a phone and saves")
    driver.set_window_size(*b.PHONE)
    try:
        b.wait_for(driver, lambda d: d.execute_script("return window.innerWidth") <= b.PHONE[0], "the phone-sized window")
        form = b.element(driver, "form#report")
        for key in SECTIONS:
            field = form.find_element(By.ID, key)
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", field)
            field.clear()
            field.send_keys(f"Unsere Erfahrung: {key}.")
        b.submit(driver, form)
        b.check("Gespeichert um" in b.page_text(driver), "saving says 'Gespeichert' with the time")
        b.no_sideways_scrolling(driver, "erfahrungsbericht-telefon")
    finally:
        driver.set_window_size(*b.DESKTOP)

    b.step("releasing without the confirmation names what is missing; with it, the report is released")
    form = b.element(driver, "form#release")
    b.check(not form.find_element(By.ID, "confirm").is_selected(), "the confirmation is not preselected")
    b.submit(driver, form)
    b.check("Bestätigung" in b.element(driver, "#form-errors", "the error summary").text, "the missing confirmation is named")
    b.axe_both_widths(driver, "erfahrungsbericht-bestaetigung")
    form = b.element(driver, "form#release")
    form.find_element(By.CSS_SELECTOR, "label[for=confirm]").click()
    b.submit(driver, form)
    text = b.page_text(driver)
    b.check("Freigegeben" in text and "eingefroren" in text, "releasing says what it did")
    b.check(not driver.find_elements(By.CSS_SELECTOR, "form#report"), "a released report has no form")
    b.axe_both_widths(driver, "erfahrungsbericht-freigegeben")

    b.step("she opens the print page and downloads the file for the state")
    b.element(driver, f"a[href='/erfahrungsberichte/{period}/druck']", "the print link").click()
    b.wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "article.print-document"), "the print page")
    b.check("Unsere Erfahrung: outlook." in b.page_text(driver), "the print page holds the text")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        hidden = driver.execute_script("const n = document.querySelector('nav'); return !n || getComputedStyle(n).display === 'none';")
        b.check(hidden, "printed, the page has no navigation")
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    b.axe_both_widths(driver, "erfahrungsbericht-druck")
    status, headers, text = download(driver, f"/erfahrungsberichte/{period}/download")
    disposition = headers.get("Content-Disposition", "")
    b.check(status == 200 and disposition == f'attachment; filename="erfahrungsbericht-en-kreis-{period}.md"',
            f"the download is an attachment named with district and period ({status}, {disposition})")
    b.check("## Ausblick" in text and "Unsere Erfahrung: outlook." in text, "the file holds the sections")
    b.check("Haddad" not in text and "Mira" not in text, "the file names no client")
    b.sign_out(driver)
    return period


def steering_member_reads(driver, period):
    b.step("a steering member reads the released report")
    b.sign_in(driver, STEERING_EMAIL, b.ADMIN_PASSWORD)
    b.open_page(driver, f"/erfahrungsberichte/{period}")
    b.check("Unsere Erfahrung: coordination." in b.page_text(driver), "the steering member reads the text")
    b.check(not driver.find_elements(By.CSS_SELECTOR, "form#report, form#release"), "no form for a steering member")
    b.axe_both_widths(driver, "erfahrungsbericht-lenkungsgruppe")
    b.sign_out(driver)


def scenario(driver):
    period = coordinator_writes_and_releases(driver)
    steering_member_reads(driver, period)


def main():
    b.create_account("witten", STEERING_EMAIL, "Lea Lenkung", "steering_member")
    return b.run_scenario("experience-report", scenario)


if __name__ == "__main__":
    sys.exit(main())
