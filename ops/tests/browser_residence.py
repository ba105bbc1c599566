#!/usr/bin/env python3
"""Baustein III in a real browser (issue 21), after browser_test.py.

Usage: KW_ADMIN_PASSWORD=... KW_BIN=... browser_residence.py BASE_URL [SCREENSHOT_DIR]

A Witten case manager takes in a client with a Duldung and, from the case, asks the district's
ABH for a § 25b pre-check with the client's consent; the ABH's officer finds it in the inbox and
answers "missing: Sprachniveau B1"; the case manager sees the answer; the officer records the
application that follows and the backlog of the day counts it; withdrawing the consent ends the
ABH's sight; the coordinators start a naturalisation campaign with Witten and an Arabic letter,
which Witten's case manager reads. axe (no serious or critical finding) on every new page at 1280 and 390 px.
"""
import sys
from datetime import date

from selenium.webdriver.common.by import By

import browser_test as b

OFFICER_EMAIL = "sachbearbeitung@en-kreis-abh.test"
CLIENT = ("Samir", "Karimi")


def create_officer():
    b.create_account("en-kreis-abh", OFFICER_EMAIL, "Olga Ordnung", "abh_officer")


def case_manager_asks(driver):
    b.step("a Witten case manager records a client's Duldung and asks the district's ABH for a § 25b pre-check")
    b.sign_in(driver, b.CM_EMAIL, b.CM_PASSWORD)
    b.open_page(driver, "/aufnahme")
    form = b.element(driver, "form#intake")
    b.fill(form, "first_name", CLIENT[0])
    b.fill(form, "last_name", CLIENT[1])
    b.fill_date(form, "date_of_birth", "1989-02-11")
    b.choose(form, "gender", "male")
    b.fill(form, "place_of_residence", "Witten")
    b.choose(form, "residence_title", "toleration")
    b.fill(form, "reason", "Aufenthaltssicherung")
    form.find_element(By.ID, "consent").click()
    b.choose(form, "consent_given_how", "in_writing")
    b.submit(driver, form)
    b.check(b.path_of(driver).startswith("/faelle/"), f"after the intake expected the case page, got {driver.current_url}")
    case_path = b.path_of(driver)
    link = b.element(driver, "a#prechecks-link", "the link to the ABH's pre-checks")
    driver.execute_script("arguments[0].click()", link)
    b.wait_for(driver, lambda d: b.path_of(d) == f"{case_path}/vorpruefungen", "the case's pre-checks")
    b.check("Duldung" in b.page_text(driver), "the page says which status goes with the pre-check")
    b.axe_both_widths(driver, "vorpruefung-anfragen")
    form = b.element(driver, "form#ask-precheck")
    b.check(not form.find_element(By.ID, "consent").is_selected(), "the consent is not ticked in advance")
    b.choose_by_text(form, "abh", "Ausländerbehörde des Ennepe-Ruhr-Kreises")
    b.choose(form, "kind", "section_25b")
    b.fill(form, "years_of_residence", "7")
    b.choose(form, "livelihood", "partly")
    b.fill(form, "school_or_work", "Helfer im Lager")
    form.find_element(By.ID, "consent").click()
    b.submit(driver, form)
    text = b.page_text(driver)
    b.check("Vorprüfung angefragt" in text, f"asking says what it did, got: {text[:300]}")
    b.check("noch nicht beantwortet" in text, "the pre-check waits for the answer")
    b.sign_out(driver)
    return case_path


def officer_answers(driver):
    b.step("the ABH's officer finds the pre-check and answers: missing, Sprachniveau B1")
    b.sign_in(driver, OFFICER_EMAIL, b.ADMIN_PASSWORD)
    b.open_page(driver, "/abh/vorpruefungen")
    b.check(f"{CLIENT[0]} {CLIENT[1]}" in b.page_text(driver), "the inbox lists the client")
    b.axe_both_widths(driver, "abh-vorpruefungen")
    b.element(driver, "table#prechecks a", "the pre-check's link").click()
    form = b.wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "form#answer-precheck"), "the answer form")
    b.axe_both_widths(driver, "abh-vorpruefung")
    form = b.element(driver, "form#answer-precheck")
    b.choose(form, "verdict", "missing")
    b.fill(form, "note", "Sprachniveau B1")
    b.submit(driver, form)
    text = b.page_text(driver)
    b.check("Antwort gesendet" in text, f"answering says what it did, got: {text[:300]}")

    b.step("the officer records the application that follows; the backlog of the day counts it")
    b.open_page(driver, "/abh/rueckstand")
    before = int(b.element(driver, "#backlog-total").text)
    b.open_page(driver, "/abh/vorpruefungen")
    b.element(driver, "table#prechecks a", "the pre-check's link").click()
    b.element(driver, "a#record-application-link", "the link to record the application").click()
    form = b.wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "form#record-application"), "the application form")
    b.check(form.find_element(By.ID, "first_name").get_attribute("value") == CLIENT[0], "the name comes from the pre-check")
    b.fill_date(form, "received_on", date.today().isoformat())
    b.submit(driver, form)
    b.check("Antrag erfasst" in b.page_text(driver), "recording says what it did")
    b.open_page(driver, "/abh/rueckstand")
    after = int(b.element(driver, "#backlog-total").text)
    b.check(after == before + 1, f"the backlog of the day grew by one: {before} → {after}")
    b.sign_out(driver)


def case_manager_sees_and_withdraws(driver, case_path):
    b.step("the case manager sees the answer, then the client withdraws the hand-over consent")
    b.sign_in(driver, b.CM_EMAIL, b.CM_PASSWORD)
    b.open_page(driver, f"{case_path}/vorpruefungen")
    text = b.page_text(driver)
    b.check("es fehlt noch etwas" in text and "Sprachniveau B1" in text, f"the answer is on the case, got: {text[:400]}")
    b.check("Antrag eingegangen" in text, "the case manager learns that the application came in")
    b.axe_both_widths(driver, "vorpruefung-beantwortet")
    b.open_page(driver, case_path)
    client = b.element(driver, "a[href^='/klienten/']", "the client's link").get_attribute("href")
    driver.get(client)
    consents = b.element(driver, "ul#consents")
    item = next(li for li in consents.find_elements(By.TAG_NAME, "li") if "Ausländerbehörde" in li.text)
    item.find_element(By.CSS_SELECTOR, "a[href$='/widerruf']").click()
    form = b.wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "form#withdraw"), "the withdrawal's confirmation")
    b.check("Vorprüfung § 25b" in b.page_text(driver), "the confirmation names the ABH's access that ends")
    b.submit(driver, form)
    b.open_page(driver, f"{case_path}/vorpruefungen")
    b.check("Zugriff der Ausländerbehörde beendet" in b.page_text(driver), "the case says the ABH's access ended")
    b.sign_out(driver)
    b.sign_in(driver, OFFICER_EMAIL, b.ADMIN_PASSWORD)
    b.open_page(driver, "/abh/vorpruefungen")
    b.check(f"{CLIENT[0]} {CLIENT[1]}" not in b.page_text(driver), "the ABH no longer sees the pre-check")
    b.sign_out(driver)


def campaign(driver):
    b.step("the coordinators start a naturalisation campaign with Witten; a Witten case manager reads the letter")
    b.sign_in(driver, b.COORDINATOR_EMAIL, b.ADMIN_PASSWORD)
    b.open_page(driver, "/kampagnen")
    b.axe_both_widths(driver, "kampagnen")
    form = b.element(driver, "form#new-campaign")
    b.fill(form, "title", "Einbürgerung im Ennepe-Ruhr-Kreis")
    b.fill_date(form, "starts_on", date.today().replace(day=1).isoformat())
    b.fill_date(form, "ends_on", date.today().replace(month=12, day=31).isoformat())
    box = next(label for label in form.find_elements(By.CSS_SELECTOR, "fieldset#towns label") if label.text == "Stadt Witten")
    box.click()
    b.submit(driver, form)
    b.check("Kampagne angelegt" in b.page_text(driver), "starting the campaign says what it did")
    campaign_path = b.path_of(driver)
    letter = b.element(driver, "form#add-letter")
    b.choose(letter, "language", "ar")
    b.fill(letter, "body", "يمكنك التقدم بطلب للحصول على الجنسية الألمانية. اسأل مديرة حالتك.")
    b.submit(driver, letter)
    b.check("Schreiben gespeichert" in b.page_text(driver), "saving the letter says what it did")
    b.axe_both_widths(driver, "kampagne")
    b.sign_out(driver)
    b.sign_in(driver, b.CM_EMAIL, b.CM_PASSWORD)
    town_path = campaign_path.replace("/kampagnen/", "/kampagne/")
    b.open_page(driver, town_path)
    b.check("Arabisch" in b.page_text(driver), "the town reads the letter")
    b.axe_both_widths(driver, "kampagne-stadt")
    b.sign_out(driver)


def scenario(driver):
    case_path = case_manager_asks(driver)
    officer_answers(driver)
    case_manager_sees_and_withdraws(driver, case_path)
    campaign(driver)


def main():
    create_officer()
    return b.run_scenario("residence", scenario)


if __name__ == "__main__":
    sys.exit(main())
