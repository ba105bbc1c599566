import Foundation

/// One thing that happened, for the audit trail: who did what to which object, in which tenant and why.
/// `detail` never carries a password, a secret or a client's personal data.
public struct AuditEvent: Sendable, Equatable {
    public var action: String
    public var tenantID: UUID?
    public var actorID: UUID?
    public var objectType: String?
    public var objectID: String?
    public var purpose: String?
    public var detail: [String: String]
    public var clientAddress: String?

    public init(
        _ action: String,
        tenant: UUID?,
        actor: UUID?,
        objectType: String? = nil,
        objectID: String? = nil,
        purpose: String? = nil,
        detail: [String: String] = [:],
        clientAddress: String? = nil
    ) {
        self.action = action
        self.tenantID = tenant
        self.actorID = actor
        self.objectType = objectType
        self.objectID = objectID
        self.purpose = purpose
        self.detail = detail
        self.clientAddress = clientAddress
    }
}

extension AuditEvent {
    /// An event caused by a signed-in identity, in its tenant.
    public init(
        _ action: String,
        by identity: Identity,
        in tenant: UUID? = nil,
        objectType: String? = nil,
        objectID: String? = nil,
        detail: [String: String] = [:],
        clientAddress: String?
    ) {
        self.init(
            action,
            tenant: tenant ?? identity.tenant.id,
            actor: identity.userID,
            objectType: objectType,
            objectID: objectID,
            detail: detail,
            clientAddress: clientAddress
        )
    }
}
