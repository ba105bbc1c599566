#!/usr/bin/env python3
"""Open-loop load generator for ops/bench/latency (wrk2 is not packaged here; Python 3.11, stdlib only).

Requests leave at their scheduled times whether or not earlier ones have answered, and each latency is
measured from the request's scheduled time, not from when it was sent: a stall of the server is not hidden
by a generator that waited for it (the coordinated-omission correction of wrk2 / HdrHistogram). Arrivals are
Poisson at the given rate (many independent case managers), or evenly spaced with --arrivals uniform.

HTTP/1.1 keep-alive over a pool of connections (asyncio protocols on a select(2) loop for its microsecond
timeouts, one process, one thread). A request
takes an idle connection or opens one; a connection carries one request at a time. All samples are kept.

The generator prints its own lateness (the moment it got to the request minus the request's scheduled
time: p50, p99, max; waiting for a free connection when all MAX_CONNECTIONS are busy is the server's
delay, not the generator's, and is counted apart) and its CPU time (getrusage) beside the figures, so a late generator shows.

Workload: case managers of a seeded district (ops/bench/latency exports cms.tsv, cases.tsv, goals.tsv,
names.tsv and service.txt, the referrals' service, into --data), each request for a case manager drawn at random, with that case manager's token:
  mine      GET  /api/v1/cases                         my cases
  case      GET  /api/v1/cases/ID                      a case page's data (one of the case manager's open cases)
  search    GET  /api/v1/clients?q=LAST FIRST          a client search by name (a client of the tenant)
  intake    POST /api/v1/clients, then POST /api/v1/cases   register a client with consent, open their case:
                                                       one action of two requests in sequence
  review    POST /api/v1/cases/ID/goals/GOAL/review    a goal's review, If-Match the goal's version (kept from
                                                       each answer's ETag; one goal is never in two requests)
  referral  POST /api/v1/cases/ID/referrals            a referral to a service of the district, consent given yesterday

Commands:
  run --rates 100,300,600 --seconds 30    the mix at each rate; prints a table per rate and a summary
  count --endpoint E --requests N         N actions of one endpoint, one at a time; prints how many succeeded
  check                                   one action of each endpoint; fails unless all succeed
  healthz --rates 600 --seconds 10        GET /healthz open loop: the generator's own schedule-keeping
"""

import argparse
import asyncio
import collections
import datetime
import json
import random
import resource
import selectors
import sys
import time
import urllib.parse

ENDPOINTS = ["mine", "case", "search", "intake", "review", "referral"]
LABELS = {
    "mine": "my cases",
    "case": "case page",
    "search": "client search",
    "intake": "intake (2 req.)",
    "review": "goal review",
    "referral": "referral",
    "healthz": "GET /healthz",
}
# A case manager's day, in actions: mostly reading cases, some searching, fewer writes.
MIX = {"mine": 25, "case": 35, "search": 15, "intake": 5, "review": 12, "referral": 8}
FIRST_NAMES = ["Amira", "Yusuf", "Olena", "Mohammed", "Fatima", "Ahmad", "Leyla", "Omar", "Iryna", "Hassan", "Zainab", "Mehmet", "Nadia", "Ali",
               "Mariam", "Khaled", "Elif", "Bogdan", "Rania", "Samir", "Oksana", "Tarek", "Hiba", "Emre", "Bilal", "Noor", "Daria", "Karim"]
LAST_NAMES = ["Haddad", "Demir", "Kovalenko", "Al-Sayed", "Hussaini", "Petrova", "Rahimi", "Shevchenko", "Nasser", "Kaya", "Popescu",
              "Ahmadi", "Boyko", "Khalil", "Ivanova", "Mansour", "Georgiev", "Karimi", "Tkachenko", "Saleh", "Dimitrova", "Hamdan", "Melnyk"]
OUTCOMES = ["achieved", "partly", "not_achieved", "dropped"]
TIMEOUT = 30.0


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request at a time; Content-Length or chunked answers."""

    def __init__(self, pool):
        self.pool = pool
        self.transport = None
        self.buffer = bytearray()
        self.waiter = None
        self.head = None
        self.closed = False

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        self.closed = True
        self.pool.lost(self)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection closed: {exc}"))

    def send(self, data):
        self.waiter = self.pool.loop.create_future()
        self.head = None
        self.transport.write(data)
        return self.waiter

    def data_received(self, data):
        self.buffer += data
        if self.waiter is None or self.waiter.done():
            return
        if self.head is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            del self.buffer[: end + 4]
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            self.head = (int(lines[0].split(" ", 2)[1]), headers)
        status, headers = self.head
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = self._chunked()
            if body is None:
                return
        else:
            length = int(headers.get("content-length", "0"))
            if len(self.buffer) < length:
                return
            body = bytes(self.buffer[:length])
            del self.buffer[:length]
        waiter, self.waiter = self.waiter, None
        waiter.set_result((status, headers, body))

    def _chunked(self):
        """The whole body once all chunks are in the buffer (and consumes them), else None."""
        position, parts = 0, []
        while True:
            end = self.buffer.find(b"\r\n", position)
            if end < 0:
                return None
            size = int(bytes(self.buffer[position:end]).split(b";")[0], 16)
            if size == 0:
                trailer = self.buffer.find(b"\r\n", end + 2)
                if trailer < 0:
                    return None
                del self.buffer[: trailer + 2]
                return b"".join(parts)
            if len(self.buffer) < end + 2 + size + 2:
                return None
            parts.append(bytes(self.buffer[end + 2 : end + 2 + size]))
            position = end + 2 + size + 2


class Pool:
    """Connections: an idle one if there is one, else a new one up to `limit`, else the next one released
    (a request waiting for it is late because of the server, and its latency still counts from its schedule)."""

    def __init__(self, loop, host, port, limit):
        self.loop, self.host, self.port, self.limit = loop, host, port, limit
        self.idle = []
        self.open = set()
        self.connecting = 0
        self.waiters = collections.deque()
        self.opened = 0
        self.waited = 0

    async def connect(self):
        self.connecting += 1
        try:
            _, connection = await self.loop.create_connection(lambda: Connection(self), self.host, self.port)
        finally:
            self.connecting -= 1
        self.opened += 1
        self.open.add(connection)
        return connection

    async def warm(self, count):
        for connection in await asyncio.gather(*(self.connect() for _ in range(count))):
            self.idle.append(connection)

    async def acquire(self):
        while self.idle:
            connection = self.idle.pop()
            if not connection.closed:
                return connection
        if len(self.open) + self.connecting < self.limit:
            return await self.connect()
        waiter = self.loop.create_future()
        self.waiters.append(waiter)
        self.waited += 1
        return await waiter

    def release(self, connection):
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self.idle.append(connection)

    def lost(self, connection):
        self.open.discard(connection)
        if connection in self.idle:
            self.idle.remove(connection)
        if self.waiters:
            self.loop.create_task(self.replace())

    async def replace(self):
        """A new connection for a waiting request, in place of one that closed."""
        try:
            connection = await self.connect()
        except OSError:
            return
        self.release(connection)


class Workload:
    """The seeded district as the bench exported it: case managers, their open cases and goals, their towns' clients."""

    def __init__(self, folder, seed):
        self.random = random.Random(seed)
        self.managers = []  # (token, tenant slug, user id)
        with open(f"{folder}/cms.tsv") as file:
            for line in file:
                token, tenant, user = line.rstrip("\n").split("\t")
                self.managers.append((token, tenant, user))
        self.cases = collections.defaultdict(list)
        with open(f"{folder}/cases.tsv") as file:
            for line in file:
                user, case = line.rstrip("\n").split("\t")
                self.cases[user].append(case)
        self.goals = collections.defaultdict(collections.deque)  # user -> deque of [case, goal, version]
        with open(f"{folder}/goals.tsv") as file:
            for line in file:
                user, case, goal, version = line.rstrip("\n").split("\t")
                self.goals[user].append([case, goal, int(version)])
        self.names = collections.defaultdict(list)
        with open(f"{folder}/names.tsv") as file:
            for line in file:
                tenant, name = line.rstrip("\n").split("\t")
                self.names[tenant].append(name)
        self.managers = [m for m in self.managers if self.cases[m[2]] and self.names[m[1]]]
        if not self.managers:
            sys.exit("openloop: no case manager with open cases in the exported data")
        self.reviewers = [m for m in self.managers if self.goals[m[2]]]
        with open(f"{folder}/service.txt") as file:
            self.service = file.read().strip()

    def manager(self, endpoint):
        return self.random.choice(self.reviewers if endpoint == "review" and self.reviewers else self.managers)


def request_bytes(method, path, token, port, body=None, if_match=None):
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
    if if_match is not None:
        head += f'If-Match: "{if_match}"\r\n'
    if body is None:
        return (head + "\r\n").encode()
    data = json.dumps(body).encode()
    return (head + f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data


class Generator:
    def __init__(self, args):
        self.args = args
        self.loop = asyncio.get_running_loop()
        self.pool = Pool(self.loop, args.host, args.port, args.max_connections)
        self.workload = Workload(args.data, args.seed) if args.data else None
        self.random = random.Random(None if args.seed is None else args.seed + 1)
        yesterday = datetime.date.today() - datetime.timedelta(days=1)
        self.yesterday = yesterday.isoformat()

    async def exchange(self, data):
        """One request on a pooled connection: (status, headers, body, when it was written)."""
        connection = await self.pool.acquire()
        written = self.loop.time()
        try:
            status, headers, body = await connection.send(data)
        except BaseException:
            connection.transport.close()
            raise
        self.pool.release(connection)
        return status, headers, body, written

    async def action(self, endpoint):
        """Runs one action; returns (ok, status)."""
        port = self.args.port
        if endpoint == "healthz":
            status, _, _, _ = await self.exchange(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            return status == 200, status
        w = self.workload
        token, tenant, user = w.manager(endpoint)
        if endpoint == "mine":
            status, _, _, _ = await self.exchange(request_bytes("GET", "/api/v1/cases", token, port))
            return status == 200, status
        if endpoint == "case":
            case = w.random.choice(w.cases[user])
            status, _, _, _ = await self.exchange(request_bytes("GET", f"/api/v1/cases/{case}", token, port))
            return status == 200, status
        if endpoint == "search":
            query = urllib.parse.quote(w.random.choice(w.names[tenant]))
            status, _, _, _ = await self.exchange(request_bytes("GET", f"/api/v1/clients?q={query}", token, port))
            return status == 200, status
        if endpoint == "intake":
            # A double-barrelled last name never matches a seeded client, so the duplicate check passes.
            client = {
                "first_name": w.random.choice(FIRST_NAMES),
                "last_name": f"{w.random.choice(LAST_NAMES)}-{w.random.choice(LAST_NAMES)}",
                "date_of_birth": (datetime.date(1960, 1, 1) + datetime.timedelta(days=w.random.randrange(20000))).isoformat(),
                "gender": w.random.choice(["female", "male"]),
                "languages": [w.random.choice(["ar", "uk", "fa", "tr", "ru"])],
                "german_level": w.random.choice(["none", "A1", "A2", "B1"]),
                "arrival_date": self.yesterday,
                "consent_given_on": self.yesterday,
            }
            status, _, body, _ = await self.exchange(request_bytes("POST", "/api/v1/clients", token, port, client))
            if status != 201:
                return False, status
            client_id = json.loads(body)["id"]
            opened = {"client_id": client_id, "channel": "level1", "reason": "Erstberatung"}
            status, _, _, _ = await self.exchange(request_bytes("POST", "/api/v1/cases", token, port, opened))
            return status == 201, status
        if endpoint == "review":
            goals = w.goals[user]
            if not goals:
                return False, "no goal free"
            goal = goals.popleft()
            case, goal_id, version = goal
            review = {"outcome": w.random.choice(OUTCOMES), "note": "Im Gespräch geprüft."}
            status, headers, _, _ = await self.exchange(
                request_bytes("POST", f"/api/v1/cases/{case}/goals/{goal_id}/review", token, port, review, if_match=version))
            if status == 200:
                goal[2] = int(headers.get("etag", '"0"').strip('"W/'))
                goals.append(goal)
            return status == 200, status
        if endpoint == "referral":
            case = w.random.choice(w.cases[user])
            referral = {"service_id": w.service, "reason": "Beratung zur Anerkennung des Berufsabschlusses", "consent_given_on": self.yesterday}
            status, _, _, _ = await self.exchange(request_bytes("POST", f"/api/v1/cases/{case}/referrals", token, port, referral))
            return status == 201, status
        raise ValueError(endpoint)

    # MARK: - Open loop

    async def open_loop(self, rate, seconds, endpoints, weights):
        """Schedules rate × seconds actions; returns the samples: {endpoint: [latency]}, errors, lateness, statuses."""
        count = int(rate * seconds)
        schedule = []
        moment = 0.0
        for _ in range(count):
            moment += self.random.expovariate(rate) if self.args.arrivals == "poisson" else 1.0 / rate
            schedule.append((moment, self.random.choices(endpoints, weights)[0]))
        latencies = collections.defaultdict(list)
        errors = collections.Counter()
        statuses = collections.defaultdict(collections.Counter)
        lateness = []
        pending = {}  # task -> (endpoint, scheduled)

        async def one(endpoint, scheduled):
            # The generator's own lateness: when it got to the request (a free connection may still be awaited).
            lateness.append(self.loop.time() - scheduled)
            try:
                ok, status = await self.action(endpoint)
            except Exception as error:  # a closed connection, a malformed answer
                ok, status = False, type(error).__name__
            latencies[endpoint].append(self.loop.time() - scheduled)
            if not ok:
                errors[endpoint] += 1
                statuses[endpoint][status] += 1

        start = self.loop.time() + 0.01
        for offset, endpoint in schedule:
            scheduled = start + offset
            delay = scheduled - self.loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            task = self.loop.create_task(one(endpoint, scheduled))
            pending[task] = (endpoint, scheduled)
            task.add_done_callback(lambda t: pending.pop(t, None))
        end_of_schedule = self.loop.time()
        if pending:
            _, late = await asyncio.wait(set(pending), timeout=TIMEOUT)
            now = self.loop.time()
            for task in late:
                # Still unanswered after the timeout: an error, and its latency so far goes into the figures.
                endpoint, scheduled = pending.pop(task)
                task.cancel()
                latencies[endpoint].append(now - scheduled)
                errors[endpoint] += 1
                statuses[endpoint][f"no answer in {TIMEOUT:.0f} s"] += 1
        return latencies, errors, statuses, lateness, end_of_schedule - start

    def report(self, rate, seconds, result, cpu, endpoints):
        latencies, errors, statuses, lateness, span = result
        total = sum(len(v) for v in latencies.values())
        lines = [f"== open loop at {rate}/s ({self.args.arrivals} arrivals), {seconds} s: {total} actions"
                 f" ({total / span:.1f}/s over {span:.1f} s of schedule)"]
        lines.append(f"   {'endpoint':<16} {'count':>6} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'max ms':>8}")
        rows = {}
        for endpoint in endpoints + ["all"]:
            samples = sorted(x for e, v in latencies.items() for x in v if endpoint in ("all", e))
            failed = sum(errors[e] for e in endpoints) if endpoint == "all" else errors[endpoint]
            if not samples:
                continue
            p = [percentile(samples, q) * 1000 for q in (0.5, 0.99, 0.999)] + [samples[-1] * 1000]
            rows[endpoint] = {"count": len(samples), "errors": failed, "p50": p[0], "p99": p[1], "p999": p[2], "max": p[3]}
            lines.append(f"   {LABELS.get(endpoint, endpoint):<16} {len(samples):>6} {failed:>6} {p[0]:>8.1f} {p[1]:>8.1f} {p[2]:>9.1f} {p[3]:>8.1f}")
        for endpoint, counter in statuses.items():
            lines.append(f"   errors of {LABELS.get(endpoint, endpoint)}: " + ", ".join(f"{k} × {n}" for k, n in counter.most_common()))
        late = sorted(lateness)
        gen = {"p50": percentile(late, 0.5) * 1000, "p99": percentile(late, 0.99) * 1000, "max": late[-1] * 1000, "cpu": cpu, "span": span}
        waited, self.pool.waited = self.pool.waited, 0
        lines.append(f"   connections: {len(self.pool.open)} open, {self.pool.opened} opened so far (at most {self.args.max_connections});"
                     f" {waited} requests waited for a free one")
        lines.append(f"   generator: lateness p50 {gen['p50']:.3f} ms, p99 {gen['p99']:.3f} ms, max {gen['max']:.3f} ms;"
                     f" CPU {cpu:.2f} s in {span:.1f} s ({100 * cpu / span:.0f}% of one core)")
        print("\n".join(lines), flush=True)
        return {"rate": rate, "rows": rows, "generator": gen}

    async def run(self, endpoints, weights):
        await self.pool.warm(self.args.connections)
        if self.args.warmup > 0:
            # Not measured: the server's database pool opens its connections, PostgreSQL's backends fill their caches.
            await self.open_loop(self.args.rates[0], self.args.warmup, endpoints, weights)
        summary = []
        for rate in self.args.rates:
            before = cpu_seconds()
            result = await self.open_loop(rate, self.args.seconds, endpoints, weights)
            summary.append(self.report(rate, self.args.seconds, result, cpu_seconds() - before, endpoints))
        if self.args.json:
            with open(self.args.json, "w") as file:
                json.dump(summary, file)
        return summary


def percentile(sorted_samples, q):
    if not sorted_samples:
        return float("nan")
    return sorted_samples[min(len(sorted_samples) - 1, int(q * len(sorted_samples)))]


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(args):
    generator = Generator(args)
    if args.command == "healthz":
        await generator.run(["healthz"], [1])
        return 0
    if args.command == "run":
        await generator.run(ENDPOINTS, [MIX[e] for e in ENDPOINTS])
        return 0
    if args.command == "check":
        failed = 0
        for endpoint in ENDPOINTS:
            ok, status = await generator.action(endpoint)
            print(f"   {LABELS[endpoint]}: {'ok' if ok else 'FAILED'} ({status})", flush=True)
            failed += not ok
        return 1 if failed else 0
    if args.command == "count":
        succeeded = 0
        for _ in range(args.requests):
            ok, status = await generator.action(args.endpoint)
            if not ok:
                print(f"openloop: {args.endpoint} answered {status}", file=sys.stderr)
            succeeded += ok
        print(succeeded)
        return 0 if succeeded == args.requests else 1
    return 2


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "count", "check", "healthz"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", help="folder with cms.tsv, cases.tsv, goals.tsv, names.tsv, service.txt")
    parser.add_argument("--rates", type=lambda s: [int(x) for x in s.split(",")], default=[100, 300, 600])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5, help="seconds at the first rate before measuring")
    parser.add_argument("--connections", type=int, default=64, help="connections opened before the first request (more open on demand)")
    parser.add_argument("--max-connections", type=int, default=512, help="at most this many (select(2) handles up to 1024 descriptors)")
    parser.add_argument("--arrivals", choices=["poisson", "uniform"], default="poisson")
    parser.add_argument("--endpoint", choices=ENDPOINTS)
    parser.add_argument("--requests", type=int, default=200)
    # Fresh by default: the same seed in every run would register the same intake clients again (409, a duplicate).
    parser.add_argument("--seed", type=int, default=None, help="for the draws of schedule, case managers and data")
    parser.add_argument("--json", help="write the summary of run here")
    arguments = parser.parse_args()
    # select(2) takes its timeout in microseconds, epoll in milliseconds: with epoll every request would leave
    # up to 1 ms late. A few hundred sockets are well within select's limit (1024).
    loop = asyncio.SelectorEventLoop(selectors.SelectSelector())
    asyncio.set_event_loop(loop)
    try:
        code = loop.run_until_complete(main(arguments))
    finally:
        loop.close()
    sys.exit(code)
