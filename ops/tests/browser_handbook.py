#!/usr/bin/env python3
"""The district's quality handbook in a real browser (issue 21), after browser_test.py.

Usage: KW_ADMIN_PASSWORD=... KW_BIN=... browser_handbook.py BASE_URL [SCREENSHOT_DIR]

The coordinator drafts a section (and is offered no release of her own draft); a second
coordinator reviews and releases version 1; the first drafts version 2, the second
releases it; Witten's case manager, on a phone, reads version 2 while version 1 stays
readable, and sees no draft. axe (no serious or critical finding) at 1280 and 390 px.
"""
import sys

from selenium.webdriver.common.by import By

import browser_test as b

REVIEWER_EMAIL = "zweite.koordination@en-kreis.test"
TITLE = "Mindestdokumentationsstandard"


def create_reviewer():
    b.create_account("en-kreis", REVIEWER_EMAIL, "Zora Zweitsicht", "district_coordinator")


def draft(driver, body, first=False):
    b.sign_in(driver, b.COORDINATOR_EMAIL, b.CM_PASSWORD)
    if first:
        b.open_page(driver, "/handbuch")
        b.axe_both_widths(driver, "handbuch")
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
        b.axe_both_widths(driver, "handbuch-abschnitt-entwurf")
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
    b.axe_both_widths(driver, "handbuch-abschnitt")
    b.sign_out(driver)


def scenario(driver):
    b.step("the coordinator drafts a section; a second coordinator releases it")
    draft(driver, "Jede Phase wird dokumentiert.\n\nDas Erstgespräch binnen zwei Wochen.", first=True)
    release(driver, 1)
    b.step("a new version is drafted and released")
    draft(driver, "Jede Phase wird dokumentiert.\n\nDas Erstgespräch binnen einer Woche.")
    release(driver, 2)
    case_manager_reads(driver)


def main():
    create_reviewer()
    return b.run_scenario("handbook", scenario)


if __name__ == "__main__":
    sys.exit(main())
