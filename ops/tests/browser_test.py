#!/usr/bin/env python3
"""End to end in a real browser (headless Chromium through Selenium).

Usage: KW_ADMIN_PASSWORD=... browser_test.py BASE_URL [SCREENSHOT_DIR]

The scenario of the identity issue: sign in (wrong, then right), onboard a
tenant, accept its admin's invitation (once only), sign in as that admin, the
account page, sign out. On the way: axe on every page (serious and critical
violations fail the run, the rest are warnings), keyboard focus on the sign-in
page, and no horizontal scrolling at a phone's width. Screenshots of each page
go to SCREENSHOT_DIR. Functional failures stop at once; accessibility failures
are collected and listed together at the end. Exit status 0 only when all passed.
"""
import importlib.util
import os
import re
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from axe_selenium_python import Axe
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

if len(sys.argv) < 2 or not os.environ.get("KW_ADMIN_PASSWORD"):
    sys.exit("usage: KW_ADMIN_PASSWORD=... browser_test.py BASE_URL [SCREENSHOT_DIR]")
BASE = sys.argv[1].rstrip("/")
SHOTS = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parents[2] / ".test-artifacts" / "browser"
ADMIN_EMAIL = "admin@betrieb.test"
ADMIN_PASSWORD = os.environ["KW_ADMIN_PASSWORD"]
CM_EMAIL = "cm@witten.test"
CARRIER_EMAIL = "beratung@awo-en.test"
COORDINATOR_EMAIL = "ks@en-kreis.test"
CM_PASSWORD = ADMIN_PASSWORD

TENANT = {
    "slug": "diakonie-mark-ruhr",
    "name": "Diakonie Mark-Ruhr",
    "kind": "carrier",
    "district": "en-kreis",
    "admin_email": "admin@diakonie-mark-ruhr.test",
    "admin_name": "Dora Diakonie",
}
TENANT_PASSWORD = "Dora-" + secrets.token_urlsafe(18)

DESKTOP = (1280, 900)
PHONE = (390, 844)
WAIT_SECONDS = 15
FAILING_IMPACTS = ("serious", "critical")

accessibility_failures = []  # one readable block per page with serious/critical violations
text_failures = []  # pages that show a label without its value
shot_count = 0


class CheckFailed(Exception):
    pass


# ---------------------------------------------------------------- helpers

def step(message):
    print(f"browser: {message}", flush=True)


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def start_browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     f"--window-size={DESKTOP[0]},{DESKTOP[1]}", "--lang=de-DE"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "de-DE,de"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_window_size(*DESKTOP)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver


def path_of(driver):
    return urlsplit(driver.current_url).path


def page_text(driver):
    return driver.find_element(By.TAG_NAME, "body").text


def open_page(driver, path):
    driver.get(BASE + path)


def wait_for(driver, condition, what):
    """Waits until condition holds. A page being replaced answers probes with errors (a stale body, a
    detached node): such a probe counts as "not yet" and is tried again, and only the last one is reported."""
    failed_probes = []

    def probe(d):
        try:
            return condition(d)
        except WebDriverException as error:
            failed_probes[:] = [error]
            return False

    try:
        return WebDriverWait(driver, WAIT_SECONDS).until(probe)
    except WebDriverException as error:
        last = f"; the last probe failed with {type(failed_probes[0]).__name__}" if failed_probes else ""
        raise CheckFailed(f"timed out after {WAIT_SECONDS} s waiting for {what} (at {driver.current_url}){last}") from error


def element(driver, css, what=None):
    found = driver.find_elements(By.CSS_SELECTOR, css)
    check(found, f"{what or css} not found on {driver.current_url}")
    return found[0]


def fill(form, field_id, value):
    field = form.find_element(By.ID, field_id)
    field.clear()
    field.send_keys(value)


def action_form(driver, css):
    """A form behind a disclosure (the case page's actions): opens its <details> as a person would, by its summary."""
    form = element(driver, css)
    driver.execute_script(
        "const d = arguments[0].closest('details'); if (d && !d.open) d.querySelector('summary').click();", form)
    return form


def choose(form, field_id, value):
    Select(form.find_element(By.ID, field_id)).select_by_value(value)


def submit(driver, form):
    """Clicks the form's submit button and waits until the next page has loaded."""
    name = f"form#{form.get_attribute('id')}"
    buttons = form.find_elements(By.CSS_SELECTOR, "button[type=submit], button:not([type]), input[type=submit]")
    check(buttons, f"{name} has no submit button")
    before = driver.current_url
    buttons[0].click()
    # The next page has come when the address changed or the form is gone. Chromium sometimes answers the
    # staleness probe of a replaced page with another WebDriverException than StaleElementReference: gone, too.
    def next_page(d):
        if d.current_url != before:
            return True
        try:
            return EC.staleness_of(form)(d)
        except WebDriverException:
            return True
    wait_for(driver, next_page, f"the page after submitting {name}")
    wait_for(driver, lambda d: d.execute_script("return document.readyState") == "complete", "the page to load")


def screenshot(driver, name):
    global shot_count
    shot_count += 1
    target = SHOTS / f"{shot_count:02d}-{name}.png"
    driver.save_screenshot(str(target))
    return target


def expect_start_page(driver, who):
    check(path_of(driver) == "/", f"{who}: expected the start page /, got {driver.current_url}")
    heading = element(driver, "h1", "<h1>")
    check("Übersicht" in heading.text, f"{who}: <h1> is '{heading.text}', expected 'Übersicht'")


def expect_sign_in_page(driver, why):
    check(path_of(driver) == "/anmelden", f"{why}: expected /anmelden, got {driver.current_url}")
    element(driver, "form#sign-in")


# ---------------------------------------------------------------- accessibility

def describe_violation(violation):
    lines = [f"  {violation['id']} ({violation.get('impact')}): {violation.get('help')}"]
    for node in violation.get("nodes", []):
        lines.append(f"      at {' '.join(str(target) for target in node.get('target', []))}")
    return "\n".join(lines)


def current_axe_script():
    """axe-core 4 from axe-playwright-python's package folder (imported by path: Playwright is not installed)."""
    spec = importlib.util.find_spec("axe_playwright_python")
    if spec and spec.submodule_search_locations:
        script = Path(list(spec.submodule_search_locations)[0]) / "axe.min.js"
        if script.exists():
            return str(script)
    raise CheckFailed("axe-core 4 (axe_playwright_python/axe.min.js) is not installed: run ops/tests/browser.sh")


# Labels that were seen on the pages without their values (issue 17): a page must show neither.
LABELS_WITHOUT_VALUE = re.compile(r"Abgesagt am\s*:|\(\s*\)|gültig bis\s*[,.]|widerrufen zum\s*$|Ergebnis:\s*$|davon 0 mit|\(0 ungelesen\)|\b1 (Verweisungen|Fälle|Umfragen)\b", re.M)


# What the text alone does not show (issue 17): an empty heading or one with nothing under it, an empty notice box, a term
# without its description, a label ending in ":" with nothing after it. Only what is rendered counts.
EMPTY_PARTS = """
const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
const text = e => (e.innerText || '').replace(/\\s+/g, ' ').trim();
const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : '');
const found = [];
for (const h of document.querySelectorAll('main h1, main h2, main h3, main h4')) {
  if (!shown(h)) continue;
  if (!text(h)) { found.push('an empty heading ' + name(h)); continue; }
  let next = h.nextElementSibling;
  while (next && !shown(next)) next = next.nextElementSibling;
  const level = Number(h.tagName[1]);
  const heading = next && /^H[1-6]$/.test(next.tagName) && Number(next.tagName[1]) <= level;
  const alone = !next && Array.from(h.parentElement.children).every(c => c === h || !shown(c)) && h.parentElement.tagName !== 'MAIN';
  if (heading || alone) found.push('the heading „' + text(h) + '“ with nothing under it');
}
for (const box of document.querySelectorAll('main .alert, main [role=status], main [role=alert]')) {
  if (shown(box) && !text(box)) found.push('an empty notice box ' + name(box));
}
for (const dd of document.querySelectorAll('main dd')) {
  if (shown(dd) && !text(dd)) {
    const dt = dd.previousElementSibling;
    found.push('„' + (dt ? text(dt) : '?') + '“ without its value');
  }
}
const after = e => { let t = ''; for (let n = e.nextSibling; n; n = n.nextSibling) t += n.textContent || ''; return t.trim(); };
for (const e of document.querySelectorAll('main p, main li, main dd, main td, main span, main strong')) {
  if (!shown(e) || e.querySelector('p, li, ul, ol, table, form') || e.closest('label, legend, summary')) continue;
  const t = text(e);
  const next = e.nextElementSibling;
  const inline = e.tagName === 'SPAN' || e.tagName === 'STRONG';
  if (t.endsWith(':') && !(inline && after(e)) && !(next && /^(UL|OL|TABLE|DL|FORM|DETAILS|BLOCKQUOTE|PRE)$/.test(next.tagName)))
    found.push('„' + t.slice(-40) + '“ without its value');
}
return found.slice(0, 5);
"""


def no_label_without_value(driver, page):
    """Every page, as read: no label whose value is missing (the text, and empty headings, boxes and terms in the DOM)."""
    text, empty = driver.execute_script(f"return [document.body.innerText, (() => {{ {EMPTY_PARTS} }})()];")
    found = LABELS_WITHOUT_VALUE.search(text)
    parts = [f"„{found.group(0)}“"] if found else []
    parts += empty
    if parts:
        text_failures.append(f"{page} ({driver.current_url}): shows {'; '.join(parts)}")
        step(f"  {page}: a label without its value: {'; '.join(parts)}")


def run_axe(driver, page):
    no_label_without_value(driver, page)
    axe = Axe(driver, script_url=current_axe_script())
    axe.inject()
    results = axe.run()
    violations = results.get("violations", [])
    failing = [v for v in violations if v.get("impact") in FAILING_IMPACTS]
    for violation in violations:
        if violation not in failing:
            print(f"browser:   warning on {page}:\n{describe_violation(violation)}", flush=True)
    if failing:
        block = "\n".join(describe_violation(v) for v in failing)
        accessibility_failures.append(f"{page} ({driver.current_url}):\n{block}")
        step(f"  axe on {page}: {len(failing)} serious/critical violation(s)")
    else:
        step(f"  axe on {page}: no serious or critical violations ({len(violations)} minor/moderate)")


def has_visible_focus(driver, field):
    style = driver.execute_script(
        "const s = getComputedStyle(arguments[0]);"
        "return [s.outlineStyle, s.outlineWidth, s.boxShadow];", field)
    outline_style, outline_width, box_shadow = style
    outlined = outline_style != "none" and outline_width not in ("0px", "")
    return outlined or box_shadow not in ("none", ""), style


def check_keyboard_focus(driver):
    """From the top of the page, Tab reaches #email first (or a skip link, then #email), visibly focused."""
    driver.execute_script(
        "if (document.activeElement) document.activeElement.blur();"
        "document.body.setAttribute('tabindex', '-1'); document.body.focus();"
        "document.body.removeAttribute('tabindex'); window.scrollTo(0, 0);")
    # Skip link, the site name, then the first field: the sign-in field within three presses.
    for press in (1, 2, 3):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        focused = driver.switch_to.active_element
        visible, style = has_visible_focus(driver, focused)
        label = f"#{focused.get_attribute('id')}" if focused.get_attribute("id") else focused.tag_name
        check(visible, f"the focused element {label} shows no focus indicator (outline-style, outline-width, box-shadow = {style})")
        if focused.get_attribute("id") == "email":
            return
        href = focused.get_attribute("href") or ""
        check(press > 1 or (focused.tag_name == "a" and "#" in href), f"the first Tab focused {label}, expected the skip link")
    raise CheckFailed("three Tabs from the top did not reach #email")


def check_phone_width(driver, page):
    driver.set_window_size(*PHONE)
    try:
        wait_for(driver, lambda d: d.execute_script("return window.innerWidth") <= PHONE[0], "the phone-sized window")
        scroll_width, inner_width = driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth];")
        screenshot(driver, f"{page}-phone")
        check(scroll_width <= inner_width,
              f"{page} scrolls sideways at {PHONE[0]}px: scrollWidth {scroll_width} > innerWidth {inner_width}")
        step(f"  {page} at {PHONE[0]}x{PHONE[1]}: no horizontal scrolling")
    finally:
        driver.set_window_size(*DESKTOP)


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


# ---------------------------------------------------------------- scenario steps

def sign_in(driver, email, password):
    open_page(driver, "/anmelden")
    form = element(driver, "form#sign-in")
    fill(form, "email", email)
    fill(form, "password", password)
    submit(driver, form)


def sign_out(driver):
    submit(driver, element(driver, "form#sign-out"))
    expect_sign_in_page(driver, "after signing out")
    check("Sie sind abgemeldet." in page_text(driver), "the sign-in page does not say 'Sie sind abgemeldet.'")


def sign_in_page(driver):
    step("open /anmelden")
    open_page(driver, "/anmelden")
    expect_sign_in_page(driver, "GET /anmelden")
    run_axe(driver, "sign-in page")
    screenshot(driver, "anmelden")
    step("keyboard: Tab from the top focuses #email, visibly")
    check_keyboard_focus(driver)
    check_phone_width(driver, "sign-in-page")


def wrong_password(driver):
    step("sign in with a wrong password")
    sign_in(driver, ADMIN_EMAIL, ADMIN_PASSWORD + "-falsch")
    expect_sign_in_page(driver, "a wrong password")
    errors = element(driver, "#form-errors", "#form-errors")
    text = errors.text.strip()
    check(errors.is_displayed() and text, "#form-errors is empty or hidden after a wrong password")
    check(errors.get_attribute("role") == "alert", "#form-errors lacks role=\"alert\"")
    check(re.search(r"E-Mail|Passwort|Anmeld|falsch|ungültig|nicht", text, re.IGNORECASE),
          f"#form-errors does not read as German: '{text}'")
    screenshot(driver, "anmelden-fehler")
    step(f"  error shown: {text}")


def platform_admin_start_page(driver):
    step("sign in as the platform admin")
    sign_in(driver, ADMIN_EMAIL, ADMIN_PASSWORD)
    expect_start_page(driver, "platform admin")
    run_axe(driver, "start page (platform admin)")
    screenshot(driver, "uebersicht-plattform")
    check_phone_width(driver, "start-page")


def onboard_tenant(driver):
    step(f"onboard {TENANT['name']}")
    form = element(driver, "form#onboarding")
    for field in ("slug", "name", "admin_email", "admin_name"):
        fill(form, field, TENANT[field])
    choose(form, "kind", TENANT["kind"])
    choose(form, "district", TENANT["district"])
    submit(driver, form)
    # The link is shown once, in the answer to the form (never in an address or a session).
    check(path_of(driver) in ("/mandanten", f"/mandanten/{TENANT['slug']}"),
          f"after onboarding expected the new tenant's page, got {driver.current_url}")
    check(TENANT["name"] in driver.find_element(By.TAG_NAME, "h1").text, "the new tenant's page names it in its heading")
    link = element(driver, "a#invitation-link").get_attribute("href") or ""
    check("/einladung/" in link, f"#invitation-link has no /einladung/ link: '{link}'")
    run_axe(driver, "tenant page")
    screenshot(driver, "mandant-angelegt")
    step(f"  invitation link: {link}")
    # The server may name its public address; this run reaches it on BASE.
    return urlsplit(link).path


def accept_invitation(driver, invitation_path):
    step("open the invitation link")
    open_page(driver, invitation_path)
    form = element(driver, "form#accept-invitation")
    run_axe(driver, "invitation page")
    screenshot(driver, "einladung")
    step("set a password for the tenant admin")
    fill(form, "password", TENANT_PASSWORD)
    fill(form, "password_repeat", TENANT_PASSWORD)
    submit(driver, form)
    expect_start_page(driver, "tenant admin, signed in by setting the password")
    sign_out(driver)


def invitation_used_up(driver, invitation_path):
    step("open the invitation link again: refused")
    open_page(driver, invitation_path)
    check("nicht mehr gültig" in page_text(driver), "a used invitation does not say 'nicht mehr gültig'")
    check(not driver.find_elements(By.CSS_SELECTOR, "form#accept-invitation"), "a used invitation still shows its form")
    status = http_status(BASE + invitation_path)
    check(status == 410, f"a used invitation answers HTTP {status}, expected 410")
    screenshot(driver, "einladung-verbraucht")


def tenant_admin_start_page(driver):
    step("sign in as the new tenant admin")
    sign_in(driver, TENANT["admin_email"], TENANT_PASSWORD)
    expect_start_page(driver, "tenant admin")
    rows = driver.find_elements(By.CSS_SELECTOR, "table#tenants tr[data-slug]")
    slugs = [row.get_attribute("data-slug") for row in rows]
    check(slugs == [TENANT["slug"]], f"the tenant admin's table#tenants lists {slugs}, expected only {TENANT['slug']}")
    run_axe(driver, "start page (tenant admin)")
    screenshot(driver, "uebersicht-mandant")


def account_page(driver):
    step("open /konto")
    open_page(driver, "/konto")
    check(path_of(driver) == "/konto", f"/konto ended at {driver.current_url}")
    run_axe(driver, "account page")
    screenshot(driver, "konto")


def signed_out_for_good(driver):
    step("sign out; / then shows the sign-in page")
    sign_out(driver)
    open_page(driver, "/")
    expect_sign_in_page(driver, "opening / after signing out")


def fill_date(form, field_id, iso):
    """Sets a date field to YYYY-MM-DD (typing into it would depend on the browser's locale)."""
    field = form.find_element(By.ID, field_id)
    form.parent.execute_script("arguments[0].value = arguments[1]", field, iso)


def no_sideways_scrolling(driver, page):
    scroll_width, inner_width = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth];")
    check(scroll_width <= inner_width, f"{page} scrolls sideways at {inner_width}px: scrollWidth {scroll_width}")


def phone_menu_opens(driver):
    """On a phone the navigation waits behind "Menü": hidden at first, shown by it, and its links lead on."""
    links = driver.find_elements(By.CSS_SELECTOR, "nav#menue ul a")
    check(links and not any(link.is_displayed() for link in links), "on a phone the navigation is folded behind 'Menü'")
    element(driver, "nav#menue a.menu-open", "the 'Menü' link").click()
    wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "nav#menue ul a[href='/faelle']").is_displayed(), "the opened menu")
    run_axe(driver, "menu opened (390 px)")
    screenshot(driver, "menue-telefon")
    driver.find_element(By.CSS_SELECTOR, "nav#menue ul a[href='/faelle']").click()
    wait_for(driver, lambda d: path_of(d) == "/faelle", "my cases, from the menu")
    check(not driver.find_element(By.CSS_SELECTOR, "nav#menue ul a[href='/faelle']").is_displayed(), "the next page starts with the menu folded")


def case_manager_intake(driver):
    """A case manager does a whole intake on a phone: no sideways scrolling, no serious axe findings."""
    step("a case manager's intake on a phone")
    driver.set_window_size(*PHONE)
    try:
        sign_in(driver, CM_EMAIL, CM_PASSWORD)
        expect_start_page(driver, "case manager")
        phone_menu_opens(driver)
        open_page(driver, "/aufnahme")
        form = element(driver, "form#intake")
        run_axe(driver, "intake page")
        no_sideways_scrolling(driver, "intake page")
        screenshot(driver, "aufnahme-telefon")
        fill(form, "first_name", "Yusuf")
        fill(form, "last_name", "Demir")
        fill_date(form, "date_of_birth", "1988-10-02")
        choose(form, "gender", "male")
        fill(form, "place_of_residence", "Witten")
        fill(form, "country_of_origin", "Türkei")
        fill_date(form, "arrival_date", "2025-11-15")
        fill(form, "languages", "Türkisch, Kurdisch")
        choose(form, "german_level", "A1")
        fill(form, "reason", "Arbeitssuche, Anerkennung des Berufsabschlusses")
        check(not form.find_element(By.ID, "consent").is_selected(), "the consent is never ticked for the user")
        form.find_element(By.ID, "consent").click()
        check(form.find_element(By.ID, "consent_given_how").get_attribute("value") == "", "how the consent was given is not preselected")
        choose(form, "consent_given_how", "in_writing")
        submit(driver, form)
        check(path_of(driver).startswith("/faelle/"), f"after the intake expected the case page, got {driver.current_url}")
        check("Erstberatung (Intake)" in page_text(driver), "the new case is in the intake phase")
        run_axe(driver, "case page")
        no_sideways_scrolling(driver, "case page")
        screenshot(driver, "fall-telefon")
        goal = action_form(driver, "form#add-goal")
        choose(goal, "area", "work")
        fill(goal, "goal-text", "Anerkennung des Abschlusses beantragen")
        fill_date(goal, "review_on", (date.today() + timedelta(days=60)).isoformat())  # after today, the agreed date
        submit(driver, goal)
        check("Anerkennung des Abschlusses beantragen" in page_text(driver), "the goal shows on the case page")
        run_axe(driver, "case page with a goal (review and postponement forms)")
        refer = action_form(driver, "form#refer")
        choose_by_text(refer, "service_id", "Migrationsberatung für erwachsene Zuwanderer (MBE) – AWO")
        fill(refer, "referral_reason", "Begleitung bei der Anerkennung des Berufsabschlusses")
        refer.find_element(By.ID, "referral_consent").click()
        check(refer.find_element(By.ID, "referral_consent_given_how").get_attribute("value") == "",
              "how the hand-over consent was given is not preselected")
        choose(refer, "referral_consent_given_how", "orally")
        submit(driver, refer)
        check("gesendet, noch keine Antwort" in page_text(driver), "the referral shows on the case page")
        plan = action_form(driver, "form#plan-conference")
        fill(plan, "conference-title", "Anerkennung und Arbeit")
        fill_date(plan, "conference-when", f"{date.today() + timedelta(days=14)}T10:00")
        plan.find_element(By.ID, "invite-awo-en").click()
        fill(plan, "conference-summary", "Berufsabschluss aus der Türkei, Anerkennung läuft.")
        plan.find_element(By.ID, "conference-consent").click()
        choose(plan, "conference_consent_given_how", "with_interpreter")
        fill(plan, "conference_consent_interpreter_language", "Türkisch")
        submit(driver, plan)
        check(path_of(driver).startswith("/konferenzen/"), f"after planning expected the conference page, got {driver.current_url}")
        run_axe(driver, "conference page")
        no_sideways_scrolling(driver, "conference page")
        screenshot(driver, "fallkonferenz-telefon")
        open_page(driver, "/faelle")
        check("Yusuf Demir" in page_text(driver), "the case is among my cases")
        run_axe(driver, "my cases")
        no_sideways_scrolling(driver, "my cases")
        screenshot(driver, "meine-faelle-telefon")
        notifications_page(driver)
        raise_problem(driver)
        sign_out(driver)
    finally:
        driver.set_window_size(*DESKTOP)


def raise_problem(driver):
    """The case manager raises a structural problem from the new case, on the phone."""
    step("the case manager raises a structural problem from the case")
    open_page(driver, "/probleme")
    form = element(driver, "form#raise")
    run_axe(driver, "structural problems (case manager)")
    no_sideways_scrolling(driver, "structural problems")
    fill(form, "title", "Anerkennung dauert länger als ein Jahr")
    choose(form, "category", "jurisdiction_interplay")
    fill(form, "description", "Die Anerkennungsstelle braucht über zwölf Monate; das Jobcenter verlangt bis dahin Hilfstätigkeiten.")
    form.find_element(By.ID, "sphere-SGB-II").click()
    form.find_element(By.CSS_SELECTOR, "input[name=case_ids]").click()
    submit(driver, form)
    check(path_of(driver).startswith("/probleme/"), f"after raising expected the problem page, got {driver.current_url}")
    check("Kommunale Projektgruppe" in page_text(driver), "the problem starts at the municipal level")
    run_axe(driver, "structural problem (case manager)")
    no_sideways_scrolling(driver, "structural problem")
    screenshot(driver, "systemproblem-telefon")


def coordinator_escalates(driver):
    """A district coordinator opens the dashboard, then escalates the problem with a reason."""
    step("the district coordinator opens the dashboard and escalates the problem")
    sign_in(driver, COORDINATOR_EMAIL, CM_PASSWORD)
    open_page(driver, "/kennzahlen")
    check("Kennzahlen" in page_text(driver), "the dashboard opens")
    run_axe(driver, "district figures")
    screenshot(driver, "kennzahlen")
    open_page(driver, "/probleme")
    run_axe(driver, "structural problems (coordinator)")
    driver.find_element(By.LINK_TEXT, next(link.text for link in driver.find_elements(By.CSS_SELECTOR, "#problems a")
                                           if "Anerkennung dauert" in link.text)).click()
    wait_for(driver, lambda d: path_of(d).startswith("/probleme/") and "escalate" in d.page_source, "the problem page with its steps")
    run_axe(driver, "structural problem (coordinator)")
    escalate = element(driver, "form#escalate")
    fill(escalate, "reason", "Betrifft das Jobcenter, eine kreisweite Stelle.")
    submit(driver, escalate)
    text = page_text(driver)
    check("Projektgruppe auf Kreisebene seit" in text, "the problem is at the district level")
    check("Betrifft das Jobcenter" in text, "the reason is in the history")
    screenshot(driver, "systemproblem-eskaliert")
    problem = path_of(driver)
    open_page(driver, problem + "/anliegen")
    run_axe(driver, "submission to the state (print)")
    open_page(driver, "/gremien")
    run_axe(driver, "committees")
    open_page(driver, "/gremien/lenkungsgruppe")
    run_axe(driver, "steering group")
    screenshot(driver, "lenkungsgruppe")
    sign_out(driver)


def notifications_page(driver):
    """The inbox and the e-mail preference, on the phone."""
    step("the case manager's notifications: choose e-mail at once")
    open_page(driver, "/benachrichtigungen")
    check("Benachrichtigung per E-Mail" in page_text(driver), "the notifications page shows the e-mail setting")
    run_axe(driver, "notifications")
    no_sideways_scrolling(driver, "notifications")
    settings = element(driver, "form#notification-settings")
    settings.find_element(By.CSS_SELECTOR, "input[value=immediate]").click()
    submit(driver, settings)
    check("Gespeichert." in page_text(driver), "the e-mail setting is saved")
    check(driver.find_element(By.CSS_SELECTOR, "input[value=immediate]").is_selected(), "the saved choice is shown")
    screenshot(driver, "benachrichtigungen-telefon")


def operator_jobs_page(driver):
    """The platform administrator looks at the job queue and its schedules."""
    step("the platform administrator opens the job queue")
    open_page(driver, "/betrieb/jobs")
    text = page_text(driver)
    check("Wiederkehrende Zeitpläne" in text and "reminders.sweep" in text, "the jobs page lists the schedules")
    run_axe(driver, "jobs page")
    screenshot(driver, "jobs")
    open_page(driver, "/")


def choose_by_text(form, field_id, text):
    Select(form.find_element(By.ID, field_id)).select_by_visible_text(next(
        option.text for option in form.find_element(By.ID, field_id).find_elements(By.TAG_NAME, "option") if option.text.startswith(text)))


def carrier_accepts_referral(driver):
    """The receiving carrier sees the referral with the minimal data set and accepts it."""
    step("the carrier accepts the referral")
    sign_in(driver, CARRIER_EMAIL, CM_PASSWORD)
    open_page(driver, "/verweisungen")
    text = page_text(driver)
    check("Yusuf Demir" in text and "Begleitung bei der Anerkennung" in text, "the referral is in the carrier's inbox")
    run_axe(driver, "incoming referrals")
    screenshot(driver, "verweisungen-traeger")
    accept = driver.find_element(By.CSS_SELECTOR, "#incoming form input[name=kind][value=accepted]").find_element(By.XPATH, "./..")
    submit(driver, accept)
    check("angenommen" in page_text(driver), "the referral is accepted")
    open_page(driver, "/konferenzen")
    check("Anerkennung und Arbeit" in page_text(driver), "the carrier is invited to the case conference")
    run_axe(driver, "conferences (invited)")
    open_page(driver, "/meldungen")
    element(driver, "form#report")
    run_axe(driver, "level-2 reports")
    screenshot(driver, "meldungen")
    sign_out(driver)


def scenario(driver):
    sign_in_page(driver)
    wrong_password(driver)
    platform_admin_start_page(driver)
    operator_jobs_page(driver)
    invitation_path = onboard_tenant(driver)
    step("sign out")
    sign_out(driver)
    accept_invitation(driver, invitation_path)
    invitation_used_up(driver, invitation_path)
    tenant_admin_start_page(driver)
    account_page(driver)
    signed_out_for_good(driver)
    case_manager_intake(driver)
    carrier_accepts_referral(driver)
    coordinator_escalates(driver)


def create_account(tenant, email, name, *roles):
    """An account for a scenario, made with the kreiswerk binary (KW_BIN) and the suite's password."""
    arguments = [os.environ["KW_BIN"], "users", "create", "--tenant", tenant, "--email", email, "--name", name]
    for role in roles:
        arguments += ["--role", role]
    created = subprocess.run(arguments + ["--password-stdin"], input=ADMIN_PASSWORD, text=True, capture_output=True)
    check(created.returncode == 0, f"users create ({email}) failed: {created.stderr}")


def axe_both_widths(driver, page):
    """axe at 1280 px, then at 390 px (and no sideways scrolling there)."""
    run_axe(driver, page)
    driver.set_window_size(*PHONE)
    try:
        wait_for(driver, lambda d: d.execute_script("return window.innerWidth") <= PHONE[0], "the phone-sized window")
        run_axe(driver, f"{page} (390 px)")
        no_sideways_scrolling(driver, page)
        screenshot(driver, f"{page}-telefon")
    finally:
        driver.set_window_size(*DESKTOP)


def run_scenario(name, scenario):
    """Runs scenario(driver) in a fresh Chromium: a functional failure stops it at once (with a screenshot);
    accessibility findings and labels without values are collected and listed at the end. The exit status."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    step(f"{name}: Chromium against {BASE}; screenshots in {SHOTS}")
    driver = start_browser()
    try:
        scenario(driver)
    except (CheckFailed, WebDriverException, StopIteration, KeyError) as error:
        where = driver.current_url
        try:
            shot = screenshot(driver, f"{name}-failure")
        except WebDriverException:
            shot = "(none)"
        reason = getattr(error, "msg", None) or error or type(error).__name__  # a WebDriverException's str() carries a stack trace
        print(f"FAIL: {reason}\n  at {where}\n  screenshot {shot}", file=sys.stderr)
        return 1
    finally:
        driver.quit()
    if accessibility_failures:
        print("FAIL: serious or critical accessibility violations (axe):\n" + "\n".join(accessibility_failures), file=sys.stderr)
        return 1
    if text_failures:
        print("FAIL: labels without their values:\n" + "\n".join(text_failures), file=sys.stderr)
        return 1
    step(f"{name}: all checks passed")
    return 0


def main():
    return run_scenario("identity", scenario)


if __name__ == "__main__":
    sys.exit(main())
