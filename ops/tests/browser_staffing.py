#!/usr/bin/env python3
"""Staffing as the district decides it in a real browser (issue 19), after browser_test.py.

Usage: KW_ADMIN_PASSWORD=... KW_BIN=... browser_staffing.py BASE_URL [SCREENSHOT_DIR]

The coordinator computes the allocation key for 2023 and carries a town's proposal into the
decision form (nothing decided for her); on the decisions page 2022 shows the seed's
table (11,79 posts to the towns, 2,21 to carriers, 3,50 + 0,50 for the district) and Witten's
waiver with its reason; she records for Sprockhövel a decision other than the proposal (1,30
proposed, 1,24 decided) with a reason, the page says what it did and the history shows it.
A steering member reads the page on a phone, without the form. axe (no serious or critical
finding) at 1280 and 390 px.
"""
import sys

from selenium.webdriver.common.by import By

import browser_test as b

STEERING_EMAIL = "lenkung@witten.test"


def proposal_to_decision(driver):
    b.step("the coordinator computes the allocation key for 2023 and carries one town's proposal into the decision form")
    b.open_page(driver, "/kennzahlen/personal")
    form = b.element(driver, "form#allocation")
    b.fill(form, "total_fte", "14")
    b.fill(form, "year", "2023")
    for town, refugees in [("witten", "1800"), ("hattingen", "950"), ("sprockhoevel", "420")]:
        b.fill(form, f"refugees_{town}", refugees)
    b.submit(driver, form)
    b.check("Entscheidung 2023" in b.page_text(driver), "the proposal offers the decision for 2023")
    b.axe_both_widths(driver, "verteilschluessel-vorschlag")
    b.element(driver, "#allocation-result a[href*='eintrag=sprockhoevel']", "Sprockhövel's link to the decision").click()
    form = b.wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "form#decision"), "the decision form")
    b.check(form.find_element(By.ID, "subject").get_attribute("value") == "sprockhoevel|case_management|0",
            "the town whose proposal was taken is chosen")
    b.check(form.find_element(By.ID, "proposed_fte").get_attribute("value") not in ("", None), "the proposal is carried over")
    b.check(form.find_element(By.ID, "decided_fte").get_attribute("value") == "", "nothing is decided for the coordinator")


def coordinator_decides(driver):
    b.step("the coordinator reads 2022 and records a decision that differs from the proposal")
    b.sign_in(driver, b.COORDINATOR_EMAIL, b.CM_PASSWORD)
    proposal_to_decision(driver)
    b.open_page(driver, "/kennzahlen/personal")
    b.element(driver, "a[href='/kennzahlen/personal/entscheidungen']", "the link to the decisions").click()
    b.wait_for(driver, lambda d: d.find_elements(By.ID, "staffing-history"), "the decisions page")
    b.open_page(driver, "/kennzahlen/personal/entscheidungen?jahr=2022")
    text = b.page_text(driver)
    for figure in ["11,79", "2,21", "3,50", "0,50"]:
        b.check(figure in text, f"2022 shows {figure}")
    b.check("sieht jedoch von der Beantragung ab" in text, "Witten's waiver is shown with its reason")
    b.axe_both_widths(driver, "stellen-2022")
    form = b.element(driver, "form#decision")
    b.check(form.find_element(By.ID, "subject").get_attribute("value") == "", "no tenant is preselected")
    b.choose(form, "subject", "sprockhoevel|case_management|0")
    b.fill(form, "proposed_fte", "1,3")
    b.fill(form, "decided_fte", "1,24")
    b.fill(form, "reason", "Die Stadt nimmt nicht die komplette Stellenerhöhung in Anspruch.")
    b.submit(driver, form)
    text = b.page_text(driver)
    b.check("Entscheidung gespeichert: Stadt Sprockhövel" in text and "1,24 Stellen, Vorschlag 1,30" in text,
            "saving the decision says what it did")
    b.check("weicht vom Vorschlag ab" in text, "the decision is marked as differing from the proposal")
    b.check("11,79" in text, "the towns' total still matches the seed")
    b.axe_both_widths(driver, "stellen-2022-entschieden")
    b.step("a form with nothing chosen names each field")
    form = b.element(driver, "form#decision")
    b.fill(form, "decided_fte", "viel")
    b.submit(driver, form)
    errors = b.element(driver, "#form-errors", "the error summary").text
    b.check("Mandant und Programm" in errors and "Entscheidung" in errors and "Begründung" in errors,
            "the error summary names the fields")
    b.axe_both_widths(driver, "stellen-fehler")
    b.sign_out(driver)


def steering_member_reads(driver):
    b.step("a steering member reads the decisions on a phone, without the form")
    b.sign_in(driver, STEERING_EMAIL, b.ADMIN_PASSWORD)
    b.open_page(driver, "/kennzahlen/personal/entscheidungen?jahr=2022")
    text = b.page_text(driver)
    b.check("1,24" in text and "Verlauf je Mandant" in text, "the steering member reads the decision and the history")
    b.check(not driver.find_elements(By.CSS_SELECTOR, "form#decision"), "no form for a steering member")
    b.axe_both_widths(driver, "stellen-lenkungsgruppe")
    b.sign_out(driver)


def scenario(driver):
    coordinator_decides(driver)
    steering_member_reads(driver)


def main():
    b.create_account("witten", STEERING_EMAIL, "Lena Lenkung", "steering_member")
    return b.run_scenario("staffing", scenario)


if __name__ == "__main__":
    sys.exit(main())
