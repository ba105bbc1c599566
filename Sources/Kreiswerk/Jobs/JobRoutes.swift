import Foundation
import Hummingbird

/// The queue for platform administrators: `/api/v1/jobs`, the page `/betrieb/jobs`, and `/metrics` for Prometheus.
struct JobRoutes {
    let database: Database
    let pages: Pages
    let metrics: JobMetrics
    let schedules: JobSchedules

    struct Overview: Codable, Sendable {
        var stats: [JobQueue.Stats.Row]
        var schedules: [JobSchedules.Listed]
    }

    var operations: JobOperations { JobOperations(database: database, schedules: schedules) }

    struct Changed: Codable, Sendable {
        var id: Int
        var state: String
    }

    func register(on routes: GuardedRouter) {
        routes.get("/api/v1/jobs", .operateJobs, use: list)
        routes.get("/api/v1/jobs/stats", .operateJobs) { _, context in
            let overview = try await operations.overview(by: context.identity)
            return JSONResponse(Overview(stats: overview.stats.rows, schedules: overview.schedules), snakeCase: true)
        }
        for operation in JobOperations.Operation.allCases {
            routes.on(.post, "/api/v1/jobs/{id}/\(operation.rawValue)", .operateJobs) { _, context in
                let id = try jobID(context)
                guard try await perform(operation, id, context) else { throw DomainError.conflict(operation.refusal(id)) }
                return JSONResponse(Changed(id: id, state: operation.newState))
            }
            routes.post("/betrieb/jobs/{id}/\(operation.pagePath)", .operateJobs) { _, context -> Response in
                let id = try jobID(context)
                let notice = try await perform(operation, id, context) ? operation.done(id) : operation.refusal(id)
                return .redirect(to: "/betrieb/jobs?hinweis=" + notice.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, type: .normal)
            }
        }
        routes.get("/metrics", .operateJobs) { _, context -> Response in
            let stats = try await operations.stats(by: context.identity)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.render(stats)))
            )
        }
        routes.get("/betrieb/jobs", .operateJobs, use: page)
    }

    func list(_ request: Request, _ context: SignedInContext) async throws -> JSONResponse<[JobQueue.Listed]> {
        let query = request.uri.queryParameters
        let state = query["state"].map(String.init)
        if let state, !JobQueue.states.contains(state) {
            throw InvalidInput(field: "state", "'\(state)' is not a job state: use one of \(JobQueue.states.joined(separator: ", ")).")
        }
        var limit = 100
        if let text = query["limit"] {
            guard let number = Int(text), (1...1000).contains(number) else {
                throw InvalidInput(field: "limit", "Give a whole number from 1 to 1000.")
            }
            limit = number
        }
        let jobs = try await operations.jobs(state: state, kind: query["kind"].map(String.init), limit: limit, by: context.identity)
        return JSONResponse(jobs, snakeCase: true)
    }

    private func jobID(_ context: SignedInContext) throws -> Int {
        guard let id = Int(try context.parameters.decoded("id")), id > 0 else {
            throw DomainError.notFound("Diesen Job gibt es nicht: die Adresse enthält keine Job-Nummer.")
        }
        return id
    }

    private func perform(_ operation: JobOperations.Operation, _ id: Int, _ context: SignedInContext) async throws -> Bool {
        try await operations.perform(operation, id, by: context.identity, clientAddress: context.clientAddress)
    }

    func page(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let query = request.uri.queryParameters
        let state = query["state"].map(String.init).flatMap { JobQueue.states.contains($0) ? $0 : nil }
        let board = try await operations.board(state: state, by: context.identity)
        let stateLabels = ["queued": "wartend", "running": "läuft", "succeeded": "erledigt", "parked": "zurückgestellt", "cancelled": "abgebrochen"]
        var data: [String: Any] = [
            "stats": board.stats.rows.map {
                [
                    "queue": $0.queue, "state": stateLabels[$0.state] ?? $0.state, "jobs": $0.jobs,
                    "lag": String(format: "%.1f", $0.lagSeconds),
                ] as [String: Any]
            },
            "filters": ([nil] + JobQueue.states).map { value -> [String: Any] in
                [
                    "href": value.map { "/betrieb/jobs?state=\($0)" } ?? "/betrieb/jobs", "label": value.flatMap { stateLabels[$0] } ?? "alle",
                    "current": value == state,
                ]
            },
            "jobs": board.jobs.map { job -> [String: Any] in
                [
                    "id": job.id, "tenant": job.tenant, "queue": job.queue, "kind": job.kind, "state": stateLabels[job.state] ?? job.state,
                    "attempts": "\(job.attempts)/\(job.maxAttempts)", "runAt": GermanFormat.timestamp(job.runAt), "error": job.lastError ?? "",
                    "canRetry": JobOperations.Operation.retry.applies(to: job), "canCancel": JobOperations.Operation.cancel.applies(to: job),
                ]
            },
            "schedules": board.schedules.map { schedule -> [String: Any] in
                [
                    "name": schedule.name, "cron": schedule.cron, "timeZone": schedule.timeZone, "kind": schedule.kind,
                    "lastFired": schedule.lastFiredAt.map(GermanFormat.timestamp) ?? "noch nie",
                    "next": schedule.nextRun.map(GermanFormat.timestamp) ?? "–",
                ]
            },
        ]
        if let notice = query["hinweis"].map(String.init) { data["notice"] = notice }
        return pages.render("jobs", data, identity: context.identity, path: "/betrieb/jobs")
    }
}

/// How the page and the API name an operation and say what became of it.
extension JobOperations.Operation {
    var pagePath: String { self == .retry ? "wiederholen" : "abbrechen" }
    func done(_ id: Int) -> String { self == .retry ? "Job \(id) wird erneut ausgeführt." : "Job \(id) ist abgebrochen." }
    func refusal(_ id: Int) -> String {
        self == .retry
            ? "Job \(id) läuft gerade, ist abgeschlossen oder existiert nicht: nur wartende, zurückgestellte oder abgebrochene Jobs lassen sich wiederholen."
            : "Job \(id) läuft gerade, ist abgeschlossen oder existiert nicht: nur wartende oder zurückgestellte Jobs lassen sich abbrechen."
    }
}
