#!/usr/bin/env python3
"""The district's quality handbook in a real browser (issue 21), after browser_test.py.

Usage: KW_ADMIN_PASSWORD=... KW_BIN=... browser_handbook.py BASE_URL [SCREENSHOT_DIR]

The coordinator drafts a section (and is offered no release of her own draft); a second
coordinator reviews and releases version 1; the first drafts version 2, the second
releases it; Witten's case manager, on a phone, reads version 2 while version 1 stays
readable, and sees no draft. axe (no serious or critical finding) at 1280 and 390 px.
"""
import os
import subprocess
import sys

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By

import browser_test as b

REVIEWER_EMAIL = "zweite.koordination@en-kreis.test"
TITLE = "Mindestdokumentationsstandard"


def create_reviewer():
    created = subprocess.run(
        [os.environ["KW_BIN"], "users", "create", "--tenant", "en-kreis", "--email", REVIEWER_EMAIL, "--name", "Zora Zweitsicht",
         "--role", "district_coordinator", "--password-stdin"],
        input=b.ADMIN_PASSWORD, text=True, capture_output=True)
    b.check(created.returncode == 0, f"users create (second coordinator) failed: {created.stderr}")


def axe_both_widths(driver, page):
    """axe at 1280 px, then at 390 px (and no sideways scrolling there)."""
    b.run_axe(driver, page)
    driver.set_window_size(*b.PHONE)
    try:
        b.wait_for(driver, lambda d: d.execute_script("return window.innerWidth") <= b.PHONE[0], "the phone-sized window")
        b.run_axe(driver, f"{page} (390 px)")
        b.no_sideways_scrolling(driver, page)
        b.screenshot(driver, f"{page}-telefon")
    finally:
        driver.set_window_size(*b.DESKTOP)


def draft(driver, body, first=False):
    b.sign_in(driver, b.COORDINATOR_EMAIL, b.CM_PASSWORD)
    if first:
        b.open_page(driver, "/handbuch")
        axe_both_widths(driver, "handbuch")
        form = b.element(driver, "form#new-section")
        b.fill(form, "title", TITLE)
    else:
        b.open_page(driver, "/handbuch")
        b.element(driver, "#sections a", "the released section").click()
        form = b.wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "form#edit-section"), "the edit form")
    b.fill(form, "body", body)
    b.submit(driver, form)
    text = b.page_text(driver)
    b.check("Entwurf gespeichert" in text, "saving the draft says what it did")
    b.check(not driver.find_elements(By.CSS_SELECTOR, "form#release"), "the author is offered no release of her own draft")
    if first:
        axe_both_widths(driver, "handbuch-abschnitt-entwurf")
    b.sign_out(driver)


def release(driver, number):
    b.sign_in(driver, REVIEWER_EMAIL, b.ADMIN_PASSWORD)
    b.open_page(driver, "/handbuch")
    b.element(driver, "#drafts a", "the draft waiting for review").click()
    form = b.wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "form#release"), "the release form")
    b.submit(driver, form)
    b.check(f"Freigegeben: Fassung {number}" in b.page_text(driver), f"releasing says version {number} holds now")
    b.sign_out(driver)


def case_manager_reads(driver):
    b.step("Witten's case manager reads version 2; version 1 stays readable; no draft")
    b.sign_in(driver, b.CM_EMAIL, b.CM_PASSWORD)
    b.open_page(driver, "/handbuch")
    b.element(driver, "#sections a", "the released section").click()
    b.wait_for(driver, lambda d: d.find_elements(By.ID, "current"), "the section page")
    text = b.page_text(driver)
    b.check("Gültige Fassung 2" in text and "binnen einer Woche" in text, "version 2 is the one that holds")
    b.check("Entwurf" not in text, "the case manager sees no draft")
    older = b.element(driver, "details.handbook-version summary", "version 1")
    older.click()
    b.check("binnen zwei Wochen" in b.page_text(driver), "version 1 stays readable")
    axe_both_widths(driver, "handbuch-abschnitt")
    b.sign_out(driver)


def main():
    b.SHOTS.mkdir(parents=True, exist_ok=True)
    b.step(f"handbook: Chromium against {b.BASE}")
    create_reviewer()
    driver = b.start_browser()
    try:
        b.step("the coordinator drafts a section; a second coordinator releases it")
        draft(driver, "Jede Phase wird dokumentiert.\n\nDas Erstgespräch binnen zwei Wochen.", first=True)
        release(driver, 1)
        b.step("a new version is drafted and released")
        draft(driver, "Jede Phase wird dokumentiert.\n\nDas Erstgespräch binnen einer Woche.")
        release(driver, 2)
        case_manager_reads(driver)
    except (b.CheckFailed, WebDriverException, StopIteration) as error:
        where = driver.current_url
        try:
            shot = b.screenshot(driver, "handbook-failure")
        except WebDriverException:
            shot = "(none)"
        reason = getattr(error, "msg", None) or error or type(error).__name__
        print(f"FAIL: {reason}\n  at {where}\n  screenshot {shot}", file=sys.stderr)
        return 1
    finally:
        driver.quit()
    if b.accessibility_failures:
        print("FAIL: serious or critical accessibility violations (axe):\n" + "\n".join(b.accessibility_failures), file=sys.stderr)
        return 1
    if b.text_failures:
        print("FAIL: labels without their values:\n" + "\n".join(b.text_failures), file=sys.stderr)
        return 1
    b.step("handbook: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
