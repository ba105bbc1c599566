#!/usr/bin/env python3
"""The KIM milestone plan in a real browser (issue 21), after browser_test.py.

Usage: KW_ADMIN_PASSWORD=... KW_BIN=... browser_milestones.py BASE_URL [SCREENSHOT_DIR]

On a phone (390 px) the coordinator opens /meilensteine, reads the plan per building block with the half-years marked
as text, opens a task's form (nothing with consequences preselected beyond the task's current state), marks it
"erledigt" with a note and the page says what changed. A Witten case manager then reads the plan: the task is
"erledigt", with the note, and there is no form for her; the status filter finds it. axe (no serious or critical
finding) at 1280 and 390 px, no sideways scrolling of the page at 390 px.
"""
import sys

from selenium.webdriver.common.by import By

import browser_test as b

TASK = "Qualifizierung der CM"
NOTE = "Grundkurs Case Management für alle CM abgeschlossen."


def task_row(driver):
    rows = driver.find_elements(By.XPATH, f"//tr[th[@scope='row' and normalize-space()='{TASK}']]")
    b.check(rows, f"the plan shows the task „{TASK}“")
    return rows[0]


def coordinator_marks_done_on_a_phone(driver):
    b.step("the coordinator marks a task of the milestone plan done, on a phone")
    b.sign_in(driver, b.COORDINATOR_EMAIL, b.CM_PASSWORD)
    driver.set_window_size(*b.PHONE)
    try:
        b.wait_for(driver, lambda d: d.execute_script("return window.innerWidth") <= b.PHONE[0], "the phone-sized window")
        b.open_page(driver, "/meilensteine")
        text = b.page_text(driver)
        b.check("Baustein I: Koordinierung" in text and "Baustein III: Ausländerbehörde" in text, "the plan per building block")
        b.check("Gremienarbeit: Aufbau und Begleitung einer Lenkungsgruppe" in text, "the plan's headings")
        b.check("überfällig" in text, "overdue tasks are named as text")
        b.check(driver.find_elements(By.CSS_SELECTOR, "a[href='/meilensteine'][aria-current='page']"), "the navigation leads here")
        row = task_row(driver)
        b.check("geplant" in row.text, "the planned half-years are marked as text")
        link = row.find_element(By.CSS_SELECTOR, "a[href*='bearbeiten=']").get_attribute("href")
        driver.get(link)
        form = b.element(driver, "form#milestone-edit", "the task's form")
        b.check(form.find_element(By.ID, "status").get_attribute("value") == "planned", "the form shows the task's current status")
        b.check(form.find_element(By.ID, "responsible_tenant").get_attribute("value") == "", "no tenant is preselected")
        b.choose(form, "status", "done")
        b.fill(form, "note", NOTE)
        b.submit(driver, form)
        text = b.page_text(driver)
        b.check(f"Gespeichert: „{TASK}“" in text and "Stand jetzt „erledigt“" in text and "Notiz jetzt" in text,
                "saving says what changed")
        b.check("erledigt" in task_row(driver).text, "the row shows the new status")
        b.no_sideways_scrolling(driver, "meilensteine-gespeichert")
        b.screenshot(driver, "meilensteine-koordination-telefon")
    finally:
        driver.set_window_size(*b.DESKTOP)
    b.axe_both_widths(driver, "meilensteine-koordination")
    b.open_page(driver, "/meilensteine?bearbeiten=" + link.split("bearbeiten=")[1].split("#")[0])
    b.axe_both_widths(driver, "meilensteine-bearbeiten")
    b.sign_out(driver)


def case_manager_reads(driver):
    b.step("a Witten case manager reads the plan and sees the task done, without a form")
    b.sign_in(driver, b.CM_EMAIL, b.CM_PASSWORD)
    b.open_page(driver, "/meilensteine")
    row = task_row(driver)
    b.check("erledigt" in row.text and NOTE in row.text, "the case manager sees the task done, with its note")
    b.check(not driver.find_elements(By.CSS_SELECTOR, "form#milestone-edit, form#milestone-add, a[href*='bearbeiten=']"),
            "no form and no edit link for a case manager")
    b.axe_both_widths(driver, "meilensteine-case-management")
    form = b.element(driver, "form#milestone-filter")
    b.choose(form, "stand", "done")
    b.submit(driver, form)
    b.check(TASK in b.page_text(driver) and "Aufgaben gefunden" in b.page_text(driver), "the status filter finds the task")
    b.sign_out(driver)


def scenario(driver):
    coordinator_marks_done_on_a_phone(driver)
    case_manager_reads(driver)


def main():
    return b.run_scenario("milestones", scenario)


if __name__ == "__main__":
    sys.exit(main())
