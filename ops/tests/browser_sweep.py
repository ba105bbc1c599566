#!/usr/bin/env python3
"""Every page of the web UI as each role that may see it, at a phone's and a desktop's width (issue 17).

Usage: KW_ADMIN_PASSWORD=... KW_BIN=... browser_sweep.py BASE_URL [SCREENSHOT_DIR]

One account per role in Witten (a town), AWO Ennepe-Ruhr (a carrier), the Ennepe-Ruhr-Kreis (the district) and its
Ausländerbehörde, and the platform administrator. Witten's case manager, the coordinator and the ABH make one object of
each kind through the API and the pages (a client with consent and one registered only, a case with a goal due, a
referral, a conference, a problem with a poll, committees, a report, a stand-in, an application, a pre-check). Then each
account asks for every page of PAGES with every object; the pages it is given (200) are opened at 1280 and 390 px: no
sideways scrolling, no label without its value (browser_test.no_label_without_value) and axe without a serious or
critical finding. axe runs once per page structure and width (the same markup, the same findings), so the sweep stays
within three minutes. A 500 anywhere fails. Screenshots of each page at each width go to SCREENSHOT_DIR.

BrowserSweepCoverageTests (Swift) fails when a GET route of the web UI is neither in PAGES nor in NOT_PAGES.
"""
import concurrent.futures
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, timedelta

from axe_selenium_python import Axe
from selenium.common.exceptions import WebDriverException

import browser_test as b

TODAY = date.today()
BROWSERS = int(os.environ.get("KW_SWEEP_BROWSERS", "2"))  # side by side: the sweep waits on pages more than on the processor

# Every page, its parameters named by the object they take (an object's entry in `objects` gives each parameter's value).
PAGES = [
    "/", "/aufnahme", "/faelle", "/faelle?alle=1", "/faelle/{case}", "/faelle/{case}/vorpruefungen", "/klienten", "/klienten?q=Haddad",
    "/klienten/{client}", "/klienten/{client}/einwilligungsformular", "/klienten/{client}/einwilligungen/{consent}/widerruf",
    "/vertretungen", "/verweisungen", "/angebote", "/angebote/{service}", "/angebote/{service}/bearbeiten", "/neues-angebot",
    "/meldungen", "/konferenzen", "/konferenzen/{conference}", "/probleme", "/probleme/{problem}", "/probleme/{problem}/anliegen",
    "/umfragen", "/gremien", "/gremien/gruppen/{group}", "/gremien/lenkungsgruppe", "/kennzahlen", "/kennzahlen/bericht",
    "/kennzahlen/personal", "/kennzahlen/personal/entscheidungen", "/benutzer", "/protokoll", "/betrieb/jobs", "/mandanten/{slug}",
    "/benachrichtigungen", "/konto",
    "/abh/antraege", "/abh/antraege/{application}", "/abh/neuer-antrag", "/abh/rueckstand", "/abh/vorpruefungen",
    "/abh/vorpruefungen/{precheck}", "/kampagnen", "/kampagnen/{campaign}", "/kampagne", "/kampagne/{campaign}", "/handbuch",
    "/handbuch/{section}", "/dokumentationsstandard", "/gremien/lenkungsgruppe/sitzungen/{meeting}", "/meilensteine",
    "/erfahrungsberichte", "/erfahrungsberichte/{period}", "/erfahrungsberichte/{period}/druck",
]
# Pages without a session.
ANONYMOUS_PAGES = ["/anmelden", "/einladung/{invitation}"]
# GET routes that are no page to look at, and why.
NOT_PAGES = {
    "/anmelden/zweiter-faktor": "only between password and second factor; browser_test's accounts have none",
    "/benachrichtigungen/{notification}": "marks the notification read and leads on to its page (303)",
    "/kennzahlen/export.csv": "a CSV download",
    "/klienten/{client}/auskunft": "the client's data as a JSON download (Art. 15 DSGVO)",
    "/erfahrungsberichte/{period}/download": "the released experience report as a Markdown download",
    "/healthz": "health check", "/readyz": "health check", "/metrics": "Prometheus text", "/static/{file}": "style sheet",
}

# (tenant, role): one account each; the design's table of roles may refuse some (then they are left out, and said so).
ROLES = [
    ("witten", "case_manager"), ("witten", "team_lead"), ("witten", "tenant_admin"), ("witten", "partner"), ("witten", "steering_member"),
    ("hattingen", "case_manager"),  # a town the district's poll asks
    ("awo-en", "case_manager"), ("awo-en", "team_lead"), ("awo-en", "tenant_admin"), ("awo-en", "counsellor"), ("awo-en", "partner"),
    ("en-kreis", "district_coordinator"), ("en-kreis", "district_assistant"), ("en-kreis", "tenant_admin"), ("en-kreis", "partner"),
    ("en-kreis", "steering_member"),
    ("en-kreis-abh", "abh_officer"), ("en-kreis-abh", "tenant_admin"), ("en-kreis-abh", "counsellor"),
]

failures = []  # one line per page with what is wrong (axe's and the label check's are collected in browser_test)


class Account:
    def __init__(self, tenant, role, email):
        self.tenant, self.role, self.email = tenant, role, email
        self.token = None
        self.web = None

    @property
    def label(self):
        return f"{self.role}@{self.tenant}"


# ---------------------------------------------------------------- HTTP without the browser

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class WebSession:
    """A signed-in session of the web pages, for the forms that make objects and to ask which pages an account is given."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())
        self.csrf = ""

    def request(self, path, form=None):
        data = None
        if form is not None:
            data = urllib.parse.urlencode(list(form) + [("_csrf", self.csrf)]).encode()
        request = urllib.request.Request(b.BASE + path, data=data, method="POST" if form is not None else "GET")
        try:
            with self.opener.open(request, timeout=30) as response:
                status, headers, body = response.status, response.headers, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            status, headers, body = error.code, error.headers, error.read().decode("utf-8", "replace")
        found = re.search(r'name="_csrf" value="([^"]*)"', body)
        if found:
            self.csrf = found.group(1)
        return status, headers, body

    def sign_in(self, email):
        self.request("/anmelden")
        status, headers, _ = self.request("/anmelden", [("email", email), ("password", b.ADMIN_PASSWORD)])
        b.check(status == 303 and headers.get("Location") == "/", f"signing in as {email}: {status} to {headers.get('Location')}")
        return self


def api(token, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(b.BASE + path, data=data, method=method,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as error:
        raise b.CheckFailed(f"{method} {path}: HTTP {error.code} {error.read().decode('utf-8', 'replace')[:400]}") from error
    return json.loads(text) if text else None


def kreiswerk(*arguments, stdin=None):
    done = subprocess.run([os.environ["KW_BIN"], *arguments], input=stdin, text=True, capture_output=True)
    return done.returncode, done.stdout.strip(), done.stderr.strip()


# ---------------------------------------------------------------- accounts and objects

def make_accounts():
    """The accounts (a few at a time: each command hashes a password) and a token for each."""
    def create(tenant, role):
        email = f"sweep.{role.replace('_', '-')}@{tenant}.test"
        name = f"{role.replace('_', ' ').title()} {tenant}"
        code, _, error = kreiswerk("users", "create", "--tenant", tenant, "--email", email, "--name", name, "--role", role,
                                   "--password-stdin", stdin=b.ADMIN_PASSWORD)
        return Account(tenant, role, email) if code == 0 else f"{role}@{tenant}: {error.splitlines()[-1] if error else code}"

    def token(account):
        code, secret, error = kreiswerk("tokens", "create", "--email", account.email, "--name", "browser-sweep", "--expires-in-days", "1")
        b.check(code == 0, f"tokens create for {account.email}: {error}")
        account.token = secret.splitlines()[-1]

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        made = list(pool.map(lambda pair: create(*pair), ROLES))
        accounts = [Account("betrieb", "platform_admin", b.ADMIN_EMAIL)] + [a for a in made if isinstance(a, Account)]
        refused = [a for a in made if not isinstance(a, Account)]
        list(pool.map(token, accounts))
    if refused:
        b.step(f"  accounts the role table refuses (left out): {'; '.join(refused)}")
    return accounts


def find(accounts, tenant, role):
    return next((a for a in accounts if a.tenant == tenant and a.role == role), None)


def iso(days):
    return (TODAY + timedelta(days=days)).isoformat()


def make_objects(accounts):
    """One object of each kind, made as its owners make them; returns kind -> list of {parameter: value}."""
    cm, lead = find(accounts, "witten", "case_manager"), find(accounts, "witten", "team_lead")
    coordinator, officer = find(accounts, "en-kreis", "district_coordinator"), find(accounts, "en-kreis-abh", "abh_officer")
    partner, witten_admin = find(accounts, "witten", "partner"), find(accounts, "witten", "tenant_admin")
    objects = {kind: [] for kind in ("client", "consent", "case", "service", "conference", "problem", "group", "slug", "application",
                                     "precheck", "invitation", "campaign", "section", "meeting", "period")}
    client = api(cm.token, "POST", "/api/v1/clients", {
        "first_name": "Mira", "last_name": "Haddad", "date_of_birth": "1990-04-02", "gender": "female", "arrival_date": "2025-09-01",
        "languages": ["ar"], "consent_given_on": iso(-40), "consent_given_how": "in_writing"})["id"]
    registered = api(cm.token, "POST", "/api/v1/clients", {
        "first_name": "Samir", "last_name": "Haddad", "date_of_birth": "1985-11-12", "languages": ["ar", "fr"]})["id"]
    objects["client"] += [{"client": client}, {"client": registered}]
    consent = api(cm.token, "GET", f"/api/v1/clients/{client}")["consents"][0]["id"]
    objects["consent"].append({"client": client, "consent": consent})
    case = api(cm.token, "POST", "/api/v1/cases", {"client_id": client, "channel": "level1", "reason": "Wohnungssuche"})["id"]
    objects["case"].append({"case": case})
    api(cm.token, "POST", f"/api/v1/cases/{case}/goals",
        {"area": "language", "text": "B1-Kurs", "agreed_on": iso(-30), "review_on": TODAY.isoformat()})
    services = api(cm.token, "GET", "/api/v1/services")
    service = next(s["id"] for s in services if s.get("key") == "mbe-awo")
    objects["service"].append({"service": service})
    api(cm.token, "POST", f"/api/v1/cases/{case}/referrals", {"service_id": service, "reason": "Beratung", "consent_given_on": iso(-1)})
    conference = api(cm.token, "POST", f"/api/v1/cases/{case}/conferences", {
        "kind": "municipal", "title": "Fallkonferenz Wohnung", "scheduled_at": f"{iso(14)}T10:00:00Z", "summary": "Wohnung und Schule.",
        "participants": ["awo-en"], "invitees": [officer.email] if officer else [], "request_moderator": True,
        "consent_given_on": TODAY.isoformat()})["id"]
    objects["conference"].append({"conference": conference})
    problem = api(cm.token, "POST", "/api/v1/problems", {
        "title": "Keine Kurse mit Kinderbetreuung", "category": "structural_gap", "description": "Alleinerziehende finden keine Kurse.",
        "legal_spheres": ["SGB II"], "district_wide_actor": False, "case_ids": [case]})["id"]
    objects["problem"].append({"problem": problem})
    api(coordinator.token, "POST", f"/api/v1/problems/{problem}/polls", {"question": "Kennen Sie das?"})
    outside = api(coordinator.token, "POST", "/api/v1/problems/from-outside", {
        "title": "Termine der ABH", "category": "jurisdiction_interplay", "description": "Monate Wartezeit.",
        "source_kind": "migrant_organisation", "source_name": "Verein Brücke e. V."})["id"]
    objects["problem"].append({"problem": outside})
    group = api(coordinator.token, "POST", "/api/v1/project-groups",
                {"level": "district", "name": "PG Sprachkurse", "topic": "Kinderbetreuung"})["id"]
    api(coordinator.token, "POST", f"/api/v1/project-groups/{group}/members", {"email": cm.email})
    api(coordinator.token, "POST", f"/api/v1/project-groups/{group}/tasks", {"text": "Kurse sammeln", "owner": "KS", "due_on": iso(40)})
    api(coordinator.token, "POST", f"/api/v1/project-groups/{group}/meetings", {"scheduled_at": f"{iso(45)}T09:00:00Z"})
    objects["group"].append({"group": group})
    api(coordinator.token, "POST", "/api/v1/steering-group/members", {"name": "Dezernentin", "body": "Stadt", "body_kind": "municipality"})
    meeting = api(coordinator.token, "POST", "/api/v1/steering-group/meetings",
                  {"scheduled_at": f"{iso(60)}T09:00:00Z", "agenda_deadline": iso(50)})["meetings"][0]["id"]
    objects["meeting"].append({"meeting": meeting})
    api(coordinator.token, "POST", "/api/v1/steering-group/papers", {
        "title": "Kurse mit Betreuung", "proposal": "Der Kreis finanziert Kinderbetreuung.", "group_id": group, "meeting_id": meeting})
    if partner:
        api(partner.token, "POST", "/api/v1/reports", {
            "town": "witten", "complexity": "jurisdiction_interplay", "first_name": "Nadia", "last_name": "Petrova",
            "date_of_birth": "1979-05-20", "languages": ["ru"], "contact": "über die Beratung",
            "description": "Jobcenter und Ausländerbehörde verweisen aufeinander.", "consent_given_on": iso(-2)})
    if lead:
        me = api(lead.token, "GET", "/api/v1/me")["id"]
        api(cm.token, "POST", "/api/v1/stand-ins", {"stand_in_id": me, "starts_on": TODAY.isoformat(), "ends_on": iso(5)})
    objects["slug"] += [{"slug": "witten"}, {"slug": "awo-en"}]
    if officer:
        officer.web = WebSession().sign_in(officer.email)
        officer.web.request("/abh/neuer-antrag")
        status, headers, body = officer.web.request("/abh/antraege", [
            ("first_name", "Samir"), ("last_name", "Haddad"), ("date_of_birth", "1988-03-04"), ("kind", "section_25b"),
            ("received_on", TODAY.isoformat())])
        b.check(status == 303, f"recording an application: {status} {body[:300]}")
        objects["application"].append({"application": headers["Location"].split("/")[-1].split("?")[0]})
        # A pre-check Witten's case manager asks of the ABH (the feature of issue 21's second part, when it is there).
        cm.web = cm.web or WebSession().sign_in(cm.email)
        status, _, body = cm.web.request(f"/faelle/{case}/vorpruefungen")
        option = re.search(r'value="([0-9a-f-]{36})"[^>]*>Ausländerbehörde', body)
        if status == 200 and option:
            cm.web.request(f"/faelle/{case}/vorpruefungen", [
                ("abh", option.group(1)), ("kind", "section_25b"), ("consent", "1"), ("consent_given_on", TODAY.isoformat())])
            found = re.search(r'data-precheck="([0-9a-f-]{36})"', cm.web.request(f"/faelle/{case}/vorpruefungen")[2])
            if found:
                objects["precheck"].append({"precheck": found.group(1)})
    # A naturalisation campaign of the coordinators with Witten taking part, started through the page (issue 21).
    coordinator.web = coordinator.web or WebSession().sign_in(coordinator.email)
    status, _, body = coordinator.web.request("/kampagnen")
    witten = re.search(r'for="town-([0-9a-fA-F-]{36})">Stadt Witten</label>', body)
    if status == 200 and witten:
        status, headers, body = coordinator.web.request("/kampagnen", [
            ("title", "Einbürgerung"), ("starts_on", TODAY.isoformat()), ("ends_on", iso(30)), ("towns", witten.group(1))])
        if status == 303:
            objects["campaign"].append({"campaign": headers["Location"].split("/")[-1].split("?")[0]})
    # A section of the quality handbook (issue 21): drafted by the coordinator, released by a second one, drafted again.
    status, headers, _ = coordinator.web.request("/handbuch", [
        ("title", "Mindestdokumentationsstandard"), ("body", "Jede Phase.\n\nZweiter Absatz.")])
    if status == 303:
        section = headers["Location"].split("/")[-1].split("?")[0]
        objects["section"].append({"section": section})
        reviewer = "sweep.zweite-koordination@en-kreis.test"
        kreiswerk("users", "create", "--tenant", "en-kreis", "--email", reviewer, "--name", "Zweite Koordination", "--role",
                  "district_coordinator", "--password-stdin", stdin=b.ADMIN_PASSWORD)
        second = WebSession().sign_in(reviewer)
        second.request(f"/handbuch/{section}")
        status, _, body = second.request(f"/handbuch/{section}/freigabe", [("version", "1")])
        b.check(status == 303, f"releasing a handbook section: {status} {body[:300]}")
        coordinator.web.request(f"/handbuch/{section}")
        coordinator.web.request(f"/handbuch/{section}", [("version", "2"), ("title", "Mindestdokumentationsstandard"), ("body", "Neu.")])
    # Experience reports (issue 21): a draft and a released one (print page), of half-years before the last completed one.
    half = (TODAY.year * 2 + (TODAY.month - 1) // 6) - 1
    for back, release in [(1, False), (2, True)]:  # the last completed one is browser_experience_report.py's
        period = f"{(half - back) // 2}-{(half - back) % 2 + 1}"
        sections = {key: f"Text zu {key}." for key in
                    ("starting_point", "coordination", "case_management", "residence", "structural_problems", "outlook")}
        report = api(coordinator.token, "PUT", f"/api/v1/districts/en-kreis/experience-reports/{period}", {"sections": sections},
                     headers={"If-Match": '"0"'})
        if release:
            api(coordinator.token, "POST", f"/api/v1/districts/en-kreis/experience-reports/{period}/release", None,
                headers={"If-Match": f'"{report["version"]}"'})
        objects["period"].append({"period": period})
    if witten_admin:
        invited = api(witten_admin.token, "POST", "/api/v1/users",
                      {"email": "sweep.neu@witten.test", "display_name": "Nina Neu", "roles": ["case_manager"]})
        objects["invitation"].append({"invitation": urllib.parse.urlsplit(invited["invitation_url"]).path.split("/")[-1]})
    missing = [kind for kind, found in objects.items() if not found]
    if missing:
        b.step(f"  no object of: {', '.join(missing)} (their pages are left out)")
    return objects


def expand(pattern, objects):
    """The addresses of a page: one per object its last parameter takes (none when there is no such object)."""
    names = re.findall(r"\{(\w+)\}", pattern)
    if not names:
        return [pattern]
    addresses = []
    for entry in objects.get(names[-1], []):
        address = pattern
        for name in names:
            address = address.replace("{" + name + "}", entry.get(name, "{" + name + "}"))
        if "{" not in address:
            addresses.append(address)
    return addresses


# ---------------------------------------------------------------- the checks of one page

# How wide the page is, and its structure as axe sees it: the kinds of elements there are (a list of 3 rows or of 30 is one structure; ids with
# an object's UUID are the same id).
STRUCTURE = """
const shape = root => root ? Array.from(new Set(Array.from(root.querySelectorAll('*'), e =>
    e.tagName + '#' + e.id.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '') + '.' + (typeof e.className === 'string' ? e.className : '')
    + '[' + (e.getAttribute('role') || '') + (e.getAttribute('type') || '') + (e.hasAttribute('open') ? 'open' : '') + ']'))).sort().join('|') : '';
return [document.documentElement.scrollWidth, window.innerWidth, shape(document.querySelector('header')), shape(document.querySelector('main'))];
"""
# The innermost elements that reach past the window's right edge: what makes a page scroll sideways.
WIDEST = """
const width = arguments[0];
const over = Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > width + 1
    || (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible' && e.getBoundingClientRect().left + e.scrollWidth > width + 1));
const inner = over.filter(e => !over.some(o => o !== e && e.contains(o)));
return inner.slice(0, 3).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (typeof e.className === 'string' && e.className ? '.' + e.className.split(' ').join('.') : '')
    + ' (' + Math.round(e.getBoundingClientRect().right) + ' px: ' + (e.innerText || e.value || '').trim().slice(0, 40) + ')').join('; ');
"""


class Sweep:
    """What the browsers have checked: the structures axe has seen at each width, the screenshots taken (shared by the
    browsers that sweep side by side)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.checked = set()  # (width, header or main structure) whose axe findings are known
        self.shots = set()
        self.views = 0
        self.axe_runs = 0
        self.seconds = {"pages": 0.0, "checks": 0.0, "axe": 0.0, "screenshots": 0.0}

    def timed(self, what, since):
        with self.lock:
            self.seconds[what] += time.monotonic() - since
        self.axe_script = b.current_axe_script()

    def first(self, keys):
        """Whether any of `keys` is new (then all are taken)."""
        with self.lock:
            new = not keys <= self.checked
            self.checked |= keys
            return new

    def check_page(self, driver, address, pattern, who, width):
        started = time.monotonic()
        b.open_page(driver, address)
        with self.lock:
            self.views += 1
        self.timed("pages", started)
        started = time.monotonic()
        where = f"{pattern} as {who} at {width}px"
        b.no_label_without_value(driver, where)
        scroll_width, inner_width, header, main = driver.execute_script(STRUCTURE)
        if scroll_width > inner_width:
            culprit = driver.execute_script(WIDEST, inner_width)
            failures.append(f"{where} ({address}): scrolls sideways, scrollWidth {scroll_width} > {inner_width}: {culprit}")
        self.timed("checks", started)
        if self.first({(width, "h", header), (width, "m", pattern, main)}):
            started = time.monotonic()
            self.axe(driver, where, address)
            self.timed("axe", started)
        with self.lock:
            shoot = (pattern, width) not in self.shots
            self.shots.add((pattern, width))
        if shoot:
            started = time.monotonic()
            name = re.sub(r"[^a-z0-9]+", "-", pattern.lower()).strip("-") or "start"
            driver.save_screenshot(str(b.SHOTS / f"sweep-{name}-{width}.png"))
            self.timed("screenshots", started)

    def axe(self, driver, where, address):
        with self.lock:
            self.axe_runs += 1
        axe = Axe(driver, script_url=self.axe_script)
        axe.inject()
        # Only the violations are wanted: axe then skips collecting what passed, which takes most of its time.
        violations = axe.run(options={"resultTypes": ["violations"]}).get("violations", [])
        failing = [v for v in violations if v.get("impact") in b.FAILING_IMPACTS]
        if failing:
            block = "\n".join(b.describe_violation(v) for v in failing)
            b.accessibility_failures.append(f"{where} ({address}):\n{block}")
            b.step(f"  axe on {where}: {len(failing)} serious/critical violation(s)")


def given(session, address, who):
    """Whether the account is given the page: 200 is a page to check; 403/404 (and a redirect) not its page; a 500 fails."""
    status, headers, _ = session.request(address)
    if status >= 500:
        failures.append(f"{address} answers HTTP {status} to {who}")
    return status == 200 and headers.get("Content-Type", "").startswith("text/html")


def as_browser_session(driver, session):
    """The browser takes over the signed-in session of `session` (its cookies), as after signing in through the form."""
    driver.delete_all_cookies()
    for cookie in session.jar:
        driver.add_cookie({"name": cookie.name, "value": cookie.value, "path": cookie.path or "/"})


def sweep_part(driver, sweeper, work, anonymous):
    """One browser's share: its accounts' pages at 1280 px, then at 390 px (and, for one browser, the pages without a session)."""
    b.open_page(driver, "/anmelden")
    for width in (b.DESKTOP, b.PHONE):
        driver.set_window_size(*width)
        b.wait_for(driver, lambda d: d.execute_script("return window.innerWidth") <= width[0], f"a window {width[0]} px wide")
        for account, mine in work:
            as_browser_session(driver, account.web)
            for pattern, address in mine:
                sweeper.check_page(driver, address, pattern, account.label, width[0])
        driver.delete_all_cookies()
        for address, pattern in anonymous:
            sweeper.check_page(driver, address, pattern, "no one signed in", width[0])


def sweep(drivers, accounts, objects):
    """Which pages each account is given, then the pages in the browsers side by side (accounts dealt out in turn)."""
    pages = [(pattern, address) for pattern in PAGES for address in expand(pattern, objects)]
    work = []
    for account in accounts:
        account.web = account.web or WebSession().sign_in(account.email)
        mine = [(pattern, address) for pattern, address in pages if given(account.web, address, account.label)]
        work.append((account, mine))
        b.step(f"  {account.label}: {len(mine)} of {len(pages)} pages")
    anonymous = [(address, pattern) for pattern in ANONYMOUS_PAGES for address in expand(pattern, objects)]
    sweeper = Sweep()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(drivers)) as pool:
        parts = [pool.submit(sweep_part, driver, sweeper, work[index::len(drivers)], anonymous if index == 0 else [])
                 for index, driver in enumerate(drivers)]
        for part in parts:
            part.result()
    return sweeper


def main():
    b.SHOTS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    drivers = [b.start_browser() for _ in range(BROWSERS)]
    for driver in drivers:
        driver.set_script_timeout(120)  # axe on a long page of a busy machine (the suite runs beside the other checks)
    try:
        b.step("browser sweep: accounts for every role in Witten, AWO, the district and its ABH")
        accounts = make_accounts()
        objects = make_objects(accounts)
        b.step(f"browser sweep: every page each account is given, at 1280 and 390 px, in {BROWSERS} browsers")
        sweeper = sweep(drivers, accounts, objects)
    except (b.CheckFailed, WebDriverException) as error:
        reason = getattr(error, "msg", None) or error
        print(f"FAIL: {reason}", file=sys.stderr)
        return 1
    finally:
        for driver in drivers:
            driver.quit()
    seconds = time.monotonic() - started
    b.step(f"browser sweep: {len(accounts)} accounts, {sweeper.views} page views, {sweeper.axe_runs} axe runs, "
           f"{len(sweeper.shots)} screenshots in {seconds:.0f} s (in the browsers: "
           + ", ".join(f"{what} {spent:.0f} s" for what, spent in sweeper.seconds.items()) + ")")
    if seconds > 180:
        print(f"browser sweep: WARNING it took {seconds:.0f} s, more than its three minutes", file=sys.stderr)
    status = 0
    for title, found in (("serious or critical accessibility violations (axe)", b.accessibility_failures),
                         ("labels without their values", b.text_failures), ("pages", failures)):
        if found:
            print(f"FAIL: {title}:\n" + "\n".join(found), file=sys.stderr)
            status = 1
    if status == 0:
        b.step("browser sweep: all checks passed")
    return status


if __name__ == "__main__":
    sys.exit(main())
