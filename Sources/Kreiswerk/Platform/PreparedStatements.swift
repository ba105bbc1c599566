import Foundation
import Logging
import PostgresNIO

/// A read keyed by one id, prepared once per connection. For the reads behind every page view, where
/// PostgreSQL spent more time planning the statement (joins under row-level security) than running it.
/// Row-level security still applies: the policies read the acting tenant when the statement runs.
protocol PreparedByID: PostgresPreparedStatement {
    var id: UUID { get }
}

extension PreparedByID {
    static var bindingDataTypes: [PostgresDataType] { [.uuid] }

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(id)
        return bindings
    }
}

extension PostgresConnection {
    /// Every row of a prepared statement.
    func rows<Statement: PostgresPreparedStatement>(_ statement: Statement, logger: Logger) async throws -> [Statement.Row] {
        var rows: [Statement.Row] = []
        for try await row in try await execute(statement, logger: logger) { rows.append(row) }
        return rows
    }
}
