import Foundation
import PostgresNIO
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

    /// What operators may do to a job, in the API (`retry`, `cancel`) and on the page.
    enum Operation: String, CaseIterable {
        case retry, cancel

        var pagePath: String { self == .retry ? "wiederholen" : "abbrechen" }
        var action: String { self == .retry ? "job.retried" : "job.cancelled" }
        var newState: String { self == .retry ? "queued" : "cancelled" }
        func done(_ id: Int) -> String { self == .retry ? "Job \(id) wird erneut ausgeführt." : "Job \(id) ist abgebrochen." }
        func refusal(_ id: Int) -> String {
            self == .retry
                ? "Job \(id) läuft gerade, ist abgeschlossen oder existiert nicht: nur wartende, zurückgestellte oder abgebrochene Jobs lassen sich wiederholen."
                : "Job \(id) läuft gerade, ist abgeschlossen oder existiert nicht: nur wartende oder zurückgestellte Jobs lassen sich abbrechen."
        }
    }

    struct Changed: Codable, Sendable {
        var id: Int
        var state: String
    }

    func register(on routes: GuardedRouter) {
        routes.get("/api/v1/jobs", .operateJobs) { request, context in
            let query = request.uri.queryParameters
            let state = query["state"].map(String.init)
            if let state, !JobQueue.states.contains(state) {
                throw InvalidInput(field: "state", "'\(state)' is not a job state: use one of \(JobQueue.states.joined(separator: ", ")).")
            }
            var limit = 100
            if let text = query["limit"] {
                guard let number = Int(text), (1...1000).contains(number) else { throw InvalidInput(field: "limit", "Give a whole number from 1 to 1000.") }
                limit = number
            }
            let kind = query["kind"].map(String.init)
            return JSONResponse(try await asOperator(context) { try await JobQueue.list(state: state, kind: kind, limit: limit, on: $0, logger: database.logger) }, snakeCase: true)
        }
        routes.get("/api/v1/jobs/stats", .operateJobs) { _, context in
            let stats = try await asOperator(context) { try await JobQueue.stats(on: $0, logger: database.logger) }
            return JSONResponse(Overview(stats: stats.rows, schedules: try await schedules.list(on: database)), snakeCase: true)
        }
        for operation in Operation.allCases {
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
            let stats = try await asOperator(context) { try await JobQueue.stats(on: $0, logger: database.logger) }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.render(stats))))
        }

        routes.get("/betrieb/jobs", .operateJobs) { request, context in
            let state = request.uri.queryParameters["state"].map(String.init).flatMap { JobQueue.states.contains($0) ? $0 : nil }
            return try await page(context, state: state, notice: request.uri.queryParameters["hinweis"].map(String.init))
        }
    }

    private func asOperator<Result: Sendable>(_ context: SignedInContext, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await database.withTenant(context.identity.tenant.id, user: context.identity.userID, body)
    }

    private func jobID(_ context: SignedInContext) throws -> Int {
        guard let id = Int(try context.parameters.decoded("id")), id > 0 else {
            throw DomainError.notFound("Diesen Job gibt es nicht: die Adresse enthält keine Job-Nummer.")
        }
        return id
    }

    /// Changes the job and records who did it, in one transaction; false if the job is not in a state that allows it.
    private func perform(_ operation: Operation, _ id: Int, _ context: SignedInContext) async throws -> Bool {
        try await asOperator(context) { connection in
            let done = operation == .retry
                ? try await JobQueue.retry(id, on: connection, logger: database.logger)
                : try await JobQueue.cancel(id, on: connection, logger: database.logger)
            if done {
                try await AuditLog.record(context.audit(operation.action, objectType: "job", objectID: "\(id)"), on: connection, logger: database.logger)
            }
            return done
        }
    }

    private func page(_ context: SignedInContext, state: String?, notice: String?) async throws -> Response {
        let (stats, jobs) = try await asOperator(context) { connection in
            (try await JobQueue.stats(on: connection, logger: database.logger),
             try await JobQueue.list(state: state, kind: nil, limit: 100, on: connection, logger: database.logger))
        }
        let listed = try await schedules.list(on: database)
        let stateLabels = ["queued": "wartend", "running": "läuft", "succeeded": "erledigt", "parked": "zurückgestellt", "cancelled": "abgebrochen"]
        var data: [String: Any] = [
            "stats": stats.rows.map { ["queue": $0.queue, "state": stateLabels[$0.state] ?? $0.state, "jobs": $0.jobs,
                                       "lag": String(format: "%.1f", $0.lagSeconds)] as [String: Any] },
            "filters": ([nil] + JobQueue.states).map { value -> [String: Any] in
                ["href": value.map { "/betrieb/jobs?state=\($0)" } ?? "/betrieb/jobs", "label": value.flatMap { stateLabels[$0] } ?? "alle", "current": value == state]
            },
            "jobs": jobs.map { job -> [String: Any] in
                ["id": job.id, "tenant": job.tenant, "queue": job.queue, "kind": job.kind, "state": stateLabels[job.state] ?? job.state,
                 "attempts": "\(job.attempts)/\(job.maxAttempts)", "runAt": GermanFormat.timestamp(job.runAt), "error": job.lastError ?? "",
                 "canRetry": ["parked", "cancelled", "queued"].contains(job.state), "canCancel": ["parked", "queued"].contains(job.state)]
            },
            "schedules": listed.map { schedule -> [String: Any] in
                ["name": schedule.name, "cron": schedule.cron, "timeZone": schedule.timeZone, "kind": schedule.kind,
                 "lastFired": schedule.lastFiredAt.map(GermanFormat.timestamp) ?? "noch nie",
                 "next": schedule.nextRun.map(GermanFormat.timestamp) ?? "–"]
            },
        ]
        if let notice { data["notice"] = notice }
        return pages.render("jobs", data, identity: context.identity, path: "/betrieb/jobs")
    }
}
