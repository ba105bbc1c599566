import Foundation
import Hummingbird

/// The inbox: `/api/v1/notifications`, `/api/v1/me/notification-settings` and the page `/benachrichtigungen`.
struct NotificationRoutes {
    let inbox: Inbox
    let pages: Pages

    init(database: Database, pages: Pages) {
        self.inbox = Inbox(database: database)
        self.pages = pages
    }

    struct Settings: Codable, Sendable {
        var email: String
    }

    func register(on routes: GuardedRouter) {
        routes.get("/api/v1/notifications", .ownAccount) { request, context in
            let unread = request.uri.queryParameters["unread"].map { $0 == "true" || $0 == "1" } ?? false
            return JSONResponse(try await inbox.items(of: context.identity, unreadOnly: unread))
        }
        routes.on(.post, "/api/v1/notifications/{id}/read", .ownAccount) { _, context -> Response in
            try await inbox.markRead(try context.id(), by: context.identity)
            return Response(status: .noContent)
        }
        routes.get("/api/v1/me/notification-settings", .ownAccount) { _, context in
            JSONResponse(Settings(email: try await inbox.preference(of: context.identity).rawValue))
        }
        routes.on(.put, "/api/v1/me/notification-settings", .ownAccount) { request, context in
            let body = try await request.json(Settings.self, context: context)
            let preference = try Inbox.EmailPreference.parse(body.email, field: "email")
            try await inbox.setPreference(preference, by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(Settings(email: preference.rawValue))
        }

        routes.get("/benachrichtigungen", .ownAccount) { request, context in
            try await page(context, notice: request.uri.queryParameters["gespeichert"] != nil ? "Gespeichert." : nil)
        }
        // The link in an e-mail: opening it marks the notification read and leads to what it is about.
        routes.get("/benachrichtigungen/{id}", .ownAccount) { _, context -> Response in
            .redirect(to: try await inbox.markRead(try context.id(), by: context.identity), type: .normal)
        }
        routes.post("/benachrichtigungen/{id}/gelesen", .ownAccount) { _, context -> Response in
            try await inbox.markRead(try context.id(), by: context.identity)
            return .redirect(to: "/benachrichtigungen", type: .normal)
        }
        routes.post("/benachrichtigungen/alle-gelesen", .ownAccount) { _, context -> Response in
            try await inbox.markAllRead(by: context.identity)
            return .redirect(to: "/benachrichtigungen", type: .normal)
        }
        routes.post("/benachrichtigungen/einstellungen", .ownAccount) { _, context -> Response in
            do {
                let preference = try Inbox.EmailPreference.parse(context.form.raw("email"), field: "email")
                try await inbox.setPreference(preference, by: context.identity, clientAddress: context.clientAddress)
            } catch let error as InvalidInput {
                return try await page(context, errors: error.errors, status: .unprocessableContent)
            }
            return .redirect(to: "/benachrichtigungen?gespeichert=1", type: .normal)
        }
    }

    private func page(
        _ context: SignedInContext,
        notice: String? = nil,
        errors: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let identity = context.identity
        let items = try await inbox.items(of: identity)
        let preference = try await inbox.preference(of: identity)
        var data = FormErrors.values(errors, labels: ["email": "E-Mail-Benachrichtigung"])
        data.merge([
            "items": items.map { item in
                [
                    "id": item.id.uuidString.lowercased(), "title": item.title, "when": GermanFormat.dateTime(item.createdAt),
                    "unread": item.readAt == nil,
                    "link": "/benachrichtigungen/\(item.id.uuidString.lowercased())",
                ] as [String: Any]
            },
            "unreadCount": items.contains { $0.readAt == nil } ? items.filter { $0.readAt == nil }.count : nil,  // a section: absent when none
            "preferences": Inbox.EmailPreference.allCases.map {
                ["value": $0.rawValue, "label": $0.label, "checked": $0 == preference] as [String: Any]
            },
        ]) { $1 }
        if let notice { data["notice"] = notice }
        return pages.render("notifications", data, identity: identity, path: "/benachrichtigungen", status: status)
    }
}
