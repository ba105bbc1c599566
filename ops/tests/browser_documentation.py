#!/usr/bin/env python3
"""The district's documentation standard and the towns' change requests in a real browser (issue 19), after browser_test.py.

Usage: KW_ADMIN_PASSWORD=... KW_BIN=... browser_documentation.py BASE_URL [SCREENSHOT_DIR]

Witten's case manager, on a phone, reads the standard (a phase without requirements says
"keine Anforderungen"), proposes adding the social area to the re-assessment (first without a
reason: the form says so); the coordinator finds the request on the start page's work queue,
opens the page from it and accepts; the standard now requires it, and the case manager reads
the decision on the page and in the inbox. axe (no serious or critical finding) at 1280 and 390 px.
"""
import sys

from selenium.webdriver.common.by import By

import browser_test as b

REASON = "Für die Wiedervorlage brauchen wir den Sozialraum, um Angebote vor Ort zu finden."


def case_manager_proposes(driver):
    b.step("Witten's case manager reads the standard and proposes a change")
    b.sign_in(driver, b.CM_EMAIL, b.CM_PASSWORD)
    b.open_page(driver, "/dokumentationsstandard")
    text = b.page_text(driver)
    b.check("Dokumentationsstandard" in text and "keine Anforderungen" in text, "the standard per phase, absent as 'keine Anforderungen'")
    b.axe_both_widths(driver, "dokumentationsstandard-stadt")
    b.check_phone_width(driver, "dokumentationsstandard-stadt")
    form = b.element(driver, "form#proposal")
    b.choose(form, "phase", "reassessment")
    form.find_element(By.ID, "add-social_area").click()
    b.submit(driver, form)
    b.check("Bitte begründen Sie den Vorschlag" in b.page_text(driver), "a proposal without a reason says what is missing")
    b.axe_both_widths(driver, "dokumentationsstandard-fehler")
    form = b.element(driver, "form#proposal")
    b.fill(form, "reason", REASON)
    b.submit(driver, form)
    b.check("Ihr Änderungsvorschlag ist eingereicht" in b.page_text(driver), "submitting says what it did")
    b.check(REASON in b.element(driver, "#own-open").text, "the own open request is listed")
    b.sign_out(driver)


def coordinator_accepts(driver):
    b.step("the coordinator finds it on the work queue and accepts it")
    b.sign_in(driver, b.COORDINATOR_EMAIL, b.CM_PASSWORD)
    b.open_page(driver, "/")
    item = b.element(driver, "li.queue-documentation a", "the work queue's documentation-standard item")
    b.check("1 Vorschlag wartet" in b.element(driver, "li.queue-documentation").text, "the queue item counts the open requests")
    item.click()
    b.wait_for(driver, lambda d: d.find_elements(By.ID, "open-requests"), "the documentation-standard page")
    b.check(REASON in b.page_text(driver), "the open request with its reason")
    b.axe_both_widths(driver, "dokumentationsstandard-koordination")
    form = b.element(driver, "#open-requests form")
    accept = form.find_element(By.CSS_SELECTOR, "button[value=accept]")
    accept.click()
    b.wait_for(driver, lambda d: "Vorschlag angenommen" in b.page_text(d), "the page after accepting")
    standard = b.element(driver, "#standard").text
    b.check("Re-Assessment\nSozialraum" in standard or "Re-Assessment Sozialraum" in standard, "the standard requires the social area now")
    b.sign_out(driver)


def case_manager_reads_the_decision(driver):
    b.step("the case manager reads the decision on the page and in the inbox")
    b.sign_in(driver, b.CM_EMAIL, b.CM_PASSWORD)
    b.open_page(driver, "/dokumentationsstandard")
    b.check("angenommen" in b.element(driver, "#decided-requests").text, "the request is shown as accepted")
    b.open_page(driver, "/benachrichtigungen")
    b.check("Änderungsvorschlag zum Dokumentationsstandard" in b.page_text(driver), "the inbox tells of the decision")
    b.sign_out(driver)


def scenario(driver):
    case_manager_proposes(driver)
    coordinator_accepts(driver)
    case_manager_reads_the_decision(driver)


def main():
    return b.run_scenario("documentation-standard", scenario)


if __name__ == "__main__":
    sys.exit(main())
