import Foundation
import Hummingbird

extension GuardedRouter {
    /// `POST BASE/{id}/ACTION`: a form on the page of one object (`BASE/ID`). Back to that page when `perform` succeeds
    /// (with `done` appended, e.g. a query that shows „gespeichert"); otherwise `page` renders it again with what is wrong
    /// (422) or that someone else changed the object meanwhile (409).
    func pageForm(
        _ base: String,
        _ action: String,
        _ permission: Permission,
        done: String = "",
        page: @escaping @Sendable (SignedInContext, UUID, InvalidInput?, String?, HTTPResponse.Status) async throws -> Response,
        _ perform: @escaping @Sendable (UUID, Form, SignedInContext) async throws -> Void
    ) {
        post("\(base)/{id}/\(action)", permission) { _, context -> Response in
            let id = try context.id()
            do {
                try await perform(id, context.form, context)
            } catch let error as InvalidInput {
                return try await page(context, id, error, nil, .unprocessableContent)
            } catch DomainError.stale(let message) {
                return try await page(context, id, nil, message, .conflict)
            }
            return .redirect(to: "\(base)/\(id.uuidString.lowercased())\(done)", type: .normal)
        }
    }
}
