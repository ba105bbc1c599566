#!/usr/bin/env python3
"""District case conferences led by the Koordinierungsstelle in a real browser (issue 19), after browser_test.py.

Usage: KW_ADMIN_PASSWORD=... KW_BIN=... browser_coordination.py BASE_URL [SCREENSHOT_DIR]

A Witten case manager asks from the case for a district conference (with the client's consent); the coordinator finds
it on the start page's work queue, plans it, invites AWO and a named colleague (the ABH officer) and the integration
council, writes the minutes and an action item; AWO reads the summary and the minutes, the town's other case manager
does not see the conference. axe (no serious or critical finding) on every page at 1280 and 390 px.
"""
import json
import sys
import urllib.error
import urllib.request
from datetime import date, timedelta

from selenium.webdriver.common.by import By

import browser_test as b

CM_EMAIL = "fallverantwortung.koordination@witten.test"
COLLEAGUE_EMAIL = "kollege.koordination@witten.test"
ABH_EMAIL = "abh.koordination@en-kreis-abh.test"
TITLE = "Schulplätze und Aufenthalt"
SUMMARY = "Familie mit drei Kindern, seit vier Monaten ohne Schulplatz; die Aufenthaltserlaubnis läuft im Frühjahr aus."


def api(method, path, token=None, body=None):
    request = urllib.request.Request(b.BASE + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def open_case():
    """The case manager's client and case, made through the API (the intake's pages are browser_test's)."""
    status, login = api("POST", "/api/v1/auth/login", body={"email": CM_EMAIL, "password": b.ADMIN_PASSWORD})
    b.check(status == 200, f"API sign-in: {status} {login}")
    token = login["token"]
    status, client = api("POST", "/api/v1/clients", token, {
        "first_name": "Samira", "last_name": "Karimi", "date_of_birth": "1988-06-02", "gender": "female",
        "arrival_date": "2025-08-01", "languages": ["fa"], "consent_given_on": date.today().isoformat(), "allow_duplicate": True})
    b.check(status == 201, f"registering the client: {status} {client}")
    status, case = api("POST", "/api/v1/cases", token, {"client_id": client["id"], "channel": "level1", "reason": "Schule"})
    b.check(status == 201, f"opening the case: {status} {case}")
    return case["id"].lower()


def case_manager_asks(driver, case_id):
    b.step("the case manager asks the Koordinierungsstelle for a district conference from the case")
    b.sign_in(driver, CM_EMAIL, b.ADMIN_PASSWORD)
    b.open_page(driver, f"/faelle/{case_id}")
    form = b.action_form(driver, "form#plan-conference")
    b.choose(form, "conference-kind", "district")
    b.fill(form, "conference-title", TITLE)
    b.fill_date(form, "conference-when", f"{date.today() + timedelta(days=10)}T09:00")
    b.fill(form, "conference-summary", SUMMARY)
    form.find_element(By.ID, "conference-consent").click()
    b.choose(form, "conference_consent_given_how", "in_writing")
    b.submit(driver, form)
    b.check(b.path_of(driver).startswith("/konferenzen/"), f"after asking expected the conference page, got {driver.current_url}")
    text = b.page_text(driver)
    b.check("Angefragt bei der Koordinierungsstelle" in text, "the conference page says the request waits for the coordinators")
    b.check("Wunschtermin" in text, "the time is the town's wish until the coordinators plan it")
    b.axe_both_widths(driver, "konferenz-angefragt")
    conference = b.path_of(driver)
    b.sign_out(driver)
    return conference


def coordinator_plans(driver, conference):
    b.step("the coordinator finds the request on the work queue, plans it and invites")
    b.sign_in(driver, b.COORDINATOR_EMAIL, b.ADMIN_PASSWORD)
    b.expect_start_page(driver, "coordinator")
    queue = b.element(driver, "#work-queue", "the work queue on the start page")
    b.check(f"Fallkonferenz planen: {TITLE}" in queue.text, f"the queue offers the conference to plan: {queue.text}")
    b.axe_both_widths(driver, "start-arbeitsvorrat")
    queue.find_element(By.CSS_SELECTOR, f"a[href='{conference}']").click()
    b.wait_for(driver, lambda d: b.path_of(d) == conference, "the conference page")
    text = b.page_text(driver)
    b.check(SUMMARY in text, "the coordinator reads the case's summary")
    b.check(not driver.find_elements(By.CSS_SELECTOR, "#case a"), "the coordinator is not offered the town's case")
    b.axe_both_widths(driver, "konferenz-planen")
    form = b.element(driver, "form#plan-led")
    box = form.find_element(By.CSS_SELECTOR, "input[name=participants][value='awo-en']")
    if not box.is_selected():
        box.click()
    b.fill(form, "plan-invitees", ABH_EMAIL)
    b.fill(form, "plan-external", "Integrationsrat Witten")
    b.fill(form, "plan-agenda", "1. Schulplätze 2. Aufenthalt")
    b.submit(driver, form)
    text = b.page_text(driver)
    b.check("Fallkonferenz geplant" in text, "the page says what was done")
    b.check("AWO" in text and "Integrationsrat Witten" in text and "Anna Aufenthalt" in text, "AWO, the council and the officer are invited")

    b.step("the coordinator writes the minutes and an action item")
    form = b.element(driver, "form#minutes")
    b.fill(form, "minutes-text", "Das Schulamt bietet zwei Plätze an; die ABH prüft § 25a.")
    b.submit(driver, form)
    b.check("Protokoll gespeichert" in b.page_text(driver), "the minutes are saved")
    form = b.element(driver, "form#add-item")
    b.fill(form, "text", "Anmeldung an der Grundschule begleiten")
    b.fill(form, "owner", "AWO Ennepe-Ruhr")
    b.fill_date(form, "due_on", (date.today() + timedelta(days=20)).isoformat())
    b.submit(driver, form)
    b.check("Aufgabe hinzugefügt" in b.page_text(driver), "the action item is added")
    b.axe_both_widths(driver, "konferenz-geleitet")
    b.sign_out(driver)


def others_read(driver, conference):
    b.step("AWO reads the summary and the minutes; the town's other case manager does not see the conference")
    b.sign_in(driver, b.CARRIER_EMAIL, b.ADMIN_PASSWORD)
    b.open_page(driver, conference)
    text = b.page_text(driver)
    b.check(SUMMARY in text and "Das Schulamt bietet zwei Plätze an" in text, "AWO reads the summary and the minutes")
    b.check("Anmeldung an der Grundschule begleiten" in text, "AWO reads the action item")
    b.check(not driver.find_elements(By.CSS_SELECTOR, "form#minutes"), "AWO does not write the minutes")
    b.axe_both_widths(driver, "konferenz-eingeladen")
    b.sign_out(driver)
    b.sign_in(driver, ABH_EMAIL, b.ADMIN_PASSWORD)
    b.open_page(driver, conference)
    b.check("Das Schulamt bietet zwei Plätze an" in b.page_text(driver), "the officer invited by name reads the minutes")
    b.sign_out(driver)
    b.sign_in(driver, COLLEAGUE_EMAIL, b.ADMIN_PASSWORD)
    b.open_page(driver, conference)
    text = b.page_text(driver)
    b.check(SUMMARY not in text and "gibt es nicht" in text, "the town's other case manager is told there is no such conference")
    b.open_page(driver, "/konferenzen")
    b.check(TITLE not in b.page_text(driver), "nor is it in their list")
    b.sign_out(driver)


def scenario(driver):
    case_id = open_case()
    conference = case_manager_asks(driver, case_id)
    coordinator_plans(driver, conference)
    others_read(driver, conference)


def main():
    b.create_account("witten", CM_EMAIL, "Frida Fall", "case_manager")
    b.create_account("witten", COLLEAGUE_EMAIL, "Konrad Kollege", "case_manager")
    b.create_account("en-kreis-abh", ABH_EMAIL, "Anna Aufenthalt", "abh_officer")
    return b.run_scenario("coordination", scenario)


if __name__ == "__main__":
    sys.exit(main())
