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
        routes.on(.post, "/api/v1/jobs/{id}/retry", .operateJobs) { _, context in
            let id = try jobID(context)
            try await change(id, context, action: "job.retried", refusal: "Job \(id) läuft gerade, ist abgeschlossen oder existiert nicht: nur wartende, zurückgestellte oder abgebrochene Jobs lassen sich wiederholen.") {
                try await JobQueue.retry(id, on: $0, logger: database.logger)
            }
            return JSONResponse(Changed(id: id, state: "queued"))
        }
        routes.on(.post, "/api/v1/jobs/{id}/cancel", .operateJobs) { _, context in
            let id = try jobID(context)
            try await change(id, context, action: "job.cancelled", refusal: "Job \(id) läuft gerade, ist abgeschlossen oder existiert nicht: nur wartende oder zurückgestellte Jobs lassen sich abbrechen.") {
                try await JobQueue.cancel(id, on: $0, logger: database.logger)
            }
            return JSONResponse(Changed(id: id, state: "cancelled"))
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
        routes.post("/betrieb/jobs/{id}/wiederholen", .operateJobs) { _, context -> Response in
            let id = try jobID(context)
            let done = try await asOperator(context) { try await JobQueue.retry(id, on: $0, logger: database.logger) }
            if done { try await audit("job.retried", id, context) }
            return .redirect(to: "/betrieb/jobs?hinweis=" + (done ? "Job \(id) wird erneut ausgeführt." : "Job \(id) ließ sich nicht wiederholen.").addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, type: .normal)
        }
        routes.post("/betrieb/jobs/{id}/abbrechen", .operateJobs) { _, context -> Response in
            let id = try jobID(context)
            let done = try await asOperator(context) { try await JobQueue.cancel(id, on: $0, logger: database.logger) }
            if done { try await audit("job.cancelled", id, context) }
            return .redirect(to: "/betrieb/jobs?hinweis=" + (done ? "Job \(id) ist abgebrochen." : "Job \(id) ließ sich nicht abbrechen.").addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, type: .normal)
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

    private func change(_ id: Int, _ context: SignedInContext, action: String, refusal: String, _ body: (PostgresConnection) async throws -> Bool) async throws {
        let done = try await asOperator(context) { connection in
            let done = try await body(connection)
            if done { try await AuditLog.record(context.audit(action, objectType: "job", objectID: "\(id)"), on: connection, logger: database.logger) }
            return done
        }
        guard done else { throw DomainError.conflict(refusal) }
    }

    private func audit(_ action: String, _ id: Int, _ context: SignedInContext) async throws {
        try await asOperator(context) { connection in
            try await AuditLog.record(context.audit(action, objectType: "job", objectID: "\(id)"), on: connection, logger: database.logger)
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
