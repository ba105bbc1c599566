#!/usr/bin/env python3
"""The service directory in a real browser (issue 20), after browser_test.py.

Usage: KW_ADMIN_PASSWORD=... KW_BIN=... browser_services.py BASE_URL [SCREENSHOT_DIR]

AWO's counsellor publishes a service for Witten in Arabic (Angebote); a Witten case
manager, on a phone, takes in a client, searches the directory from the case by
language (the client's town preselected, services of other towns not offered) and
refers with consent; the counsellor accepts and reports back; the case manager is
notified. axe (no serious or critical finding) on every new page at 1280 and 390 px.
"""
import sys
from datetime import date

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import browser_test as b

COUNSELLOR_EMAIL = "beraterin.annen@awo-en.test"
SERVICE_NAME = "Beratung für Geflüchtete Witten-Annen"
CLIENT = ("Rania", "Haddad")


def create_counsellor():
    b.create_account("awo-en", COUNSELLOR_EMAIL, "Amal Annen", "counsellor")


def tick(form, name, value):
    box = form.find_element(By.CSS_SELECTOR, f"input[name={name}][value='{value}']")
    if not box.is_selected():
        box.click()


def counsellor_publishes(driver):
    b.step("AWO's counsellor publishes a service for Witten in Arabic")
    b.sign_in(driver, COUNSELLOR_EMAIL, b.ADMIN_PASSWORD)
    b.open_page(driver, "/angebote")
    b.check("Angebote" in b.page_text(driver), "the counsellor sees the directory")
    b.axe_both_widths(driver, "angebote")
    b.element(driver, "a[href='/neues-angebot']", "the link to publish a service").click()
    form = b.wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "form#service-form"), "the service form")
    b.axe_both_widths(driver, "angebot-erfassen")
    form = b.element(driver, "form#service-form")
    b.check(not any(r.is_selected() for r in form.find_elements(By.CSS_SELECTOR, "input[name=takes_new_clients]")),
            "whether it takes new clients is not preselected")
    b.fill(form, "name", SERVICE_NAME)
    b.choose(form, "programme", "refugee_counselling")
    tick(form, "towns", "witten")
    tick(form, "languages", "ar")
    tick(form, "languages", "de")
    tick(form, "legal_spheres", "AufenthG")
    form.find_element(By.ID, "takes-yes").click()
    b.fill(form, "waiting_weeks", "1")
    b.fill(form, "description", "Asylverfahren, Familiennachzug, Begleitung zu Behörden – auf Arabisch.")
    b.fill(form, "address", "Annenstraße 1, 58453 Witten")
    b.fill(form, "opening_hours", "Di und Do 9–12 Uhr")
    b.fill(form, "contact_email", "annen@awo-en.test")
    b.submit(driver, form)
    text = b.page_text(driver)
    b.check("Angebot veröffentlicht" in text, f"publishing says what it did, got: {text[:300]}")
    b.check("Arabisch" in text and "Stadt Witten" in text, "the service page names its language and town")
    b.axe_both_widths(driver, "angebot")
    b.sign_out(driver)


def case_manager_finds_and_refers(driver):
    b.step("a Witten case manager, on a phone, finds the service by language from a case and refers")
    driver.set_window_size(*b.PHONE)
    try:
        b.sign_in(driver, b.CM_EMAIL, b.CM_PASSWORD)
        b.open_page(driver, "/aufnahme")
        form = b.element(driver, "form#intake")
        b.fill(form, "first_name", CLIENT[0])
        b.fill(form, "last_name", CLIENT[1])
        b.fill_date(form, "date_of_birth", "1991-05-14")
        b.choose(form, "gender", "female")
        b.fill(form, "place_of_residence", "Witten")
        b.fill(form, "country_of_origin", "Syrien")
        b.fill_date(form, "arrival_date", (date.today().replace(day=1)).isoformat())
        b.fill(form, "languages", "Arabisch")
        b.choose(form, "german_level", "A1")
        b.fill(form, "reason", "Familiennachzug")
        form.find_element(By.ID, "consent").click()
        b.choose(form, "consent_given_how", "in_writing")
        b.submit(driver, form)
        b.check(b.path_of(driver).startswith("/faelle/"), f"after the intake expected the case page, got {driver.current_url}")
        case_path = b.path_of(driver)
        chooser = b.action_form(driver, "form#refer")
        offered = [o.text for o in chooser.find_element(By.ID, "service_id").find_elements(By.TAG_NAME, "option")]
        b.check(not any("Beratung bei der Wohnungssuche" in o for o in offered),
                "the case page offers no service limited to Breckerfeld, Ennepetal and Schwelm")
        link = b.element(driver, f"a[href='/angebote?fall={case_path.split('/')[-1]}']", "the link to search the directory")
        driver.execute_script("arguments[0].click()", link)
        b.wait_for(driver, lambda d: b.path_of(d) == "/angebote", "the directory")
        search = b.element(driver, "form#filter-services")
        b.check(Select(search.find_element(By.ID, "ort")).first_selected_option.get_attribute("value") == "witten",
                "the client's town is preselected")
        b.choose(search, "sprache", "ar")
        b.submit(driver, search)
        listed = " ".join(li.text for li in driver.find_elements(By.CSS_SELECTOR, "#services li"))
        b.check(SERVICE_NAME in listed, "the service is found by language")
        b.check("Beratung bei der Wohnungssuche" not in listed, "no service of other towns is offered")
        b.run_axe(driver, "angebote aus dem Fall (390 px)")
        b.no_sideways_scrolling(driver, "angebote aus dem Fall")
        b.screenshot(driver, "angebote-fall-telefon")
        found = next(a for a in driver.find_elements(By.CSS_SELECTOR, "#services a") if SERVICE_NAME in a.text)
        driver.execute_script("arguments[0].click()", found)
        refer = b.wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "form#refer"), "the referral form on the service page")
        b.run_axe(driver, "angebot mit Verweisung (390 px)")
        b.no_sideways_scrolling(driver, "angebot mit Verweisung")
        b.fill(refer, "referral_reason", "Familiennachzug, Unterlagen übersetzen")
        b.check(not refer.find_element(By.ID, "referral_consent").is_selected(), "the consent is never ticked for the user")
        refer.find_element(By.ID, "referral_consent").click()
        b.choose(refer, "referral_consent_given_how", "with_interpreter")
        b.fill(refer, "referral_consent_interpreter_language", "Arabisch")
        b.submit(driver, refer)
        b.check(b.path_of(driver) == case_path, f"after referring expected the case page, got {driver.current_url}")
        b.check("gesendet, noch keine Antwort" in b.page_text(driver), "the referral shows on the case page")
        b.sign_out(driver)
    finally:
        driver.set_window_size(*b.DESKTOP)


def counsellor_answers(driver):
    b.step("the counsellor accepts and reports back")
    b.sign_in(driver, COUNSELLOR_EMAIL, b.ADMIN_PASSWORD)
    b.open_page(driver, "/verweisungen")
    card = next(li for li in driver.find_elements(By.CSS_SELECTOR, "#incoming li") if " ".join(CLIENT) in li.text)
    accept = card.find_element(By.CSS_SELECTOR, "input[name=kind][value=accepted]").find_element(By.XPATH, "./..")
    b.submit(driver, accept)
    b.check("angenommen" in b.page_text(driver), "the referral is accepted")
    card = next(li for li in driver.find_elements(By.CSS_SELECTOR, "#incoming li") if " ".join(CLIENT) in li.text)
    feedback = card.find_element(By.CSS_SELECTOR, "input[name=kind][value=feedback]").find_element(By.XPATH, "./..")
    Select(feedback.find_element(By.CSS_SELECTOR, "select[name=outcome]")).select_by_value("started")
    feedback.find_element(By.CSS_SELECTOR, "input[name=note]").send_keys("Erstgespräch geführt, Unterlagen in Arbeit")
    b.submit(driver, feedback)
    b.check("Rückmeldung" in b.page_text(driver), "the report-back is sent")
    b.sign_out(driver)


def case_manager_is_notified(driver):
    b.step("the case manager is notified of both answers")
    b.sign_in(driver, b.CM_EMAIL, b.CM_PASSWORD)
    b.open_page(driver, "/benachrichtigungen")
    text = b.page_text(driver)
    b.check(f"Verweisung an {SERVICE_NAME}" in text and "angenommen" in text, "the acceptance is in the inbox")
    b.check("Rückmeldung gegeben" in text, "the report-back is in the inbox")
    b.check(" ".join(CLIENT) not in text, "the notification never names the client")
    b.run_axe(driver, "benachrichtigungen (Verweisung beantwortet)")
    b.sign_out(driver)


def scenario(driver):
    counsellor_publishes(driver)
    case_manager_finds_and_refers(driver)
    counsellor_answers(driver)
    case_manager_is_notified(driver)


def main():
    create_counsellor()
    return b.run_scenario("services", scenario)


if __name__ == "__main__":
    sys.exit(main())
