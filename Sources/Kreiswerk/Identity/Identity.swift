import Foundation

/// A tenant as the rest of the code refers to it: enough to decide scope and to show its name.
public struct TenantRef: Sendable, Equatable, Codable {
    public var id: UUID
    public var slug: String
    public var name: String
    /// `platform`, `district`, `municipality`, `carrier` or `authority`.
    public var kind: String
    /// The district's id and slug; nil for a district or the platform.
    public var districtID: UUID?
    public var district: String?

    /// The district this tenant belongs to, or itself when it is one.
    public var ownDistrictID: UUID? { kind == "district" ? id : districtID }

    public static let platformID = UUID(uuidString: "00000000-0000-0000-0000-000000000001")!
}

/// How a request proved who it is.
public enum Credential: Sendable, Equatable {
    /// A web session (cookie), with the token its forms must carry.
    case session(id: UUID, csrfToken: String)
    /// A bearer token from the login endpoint or a personal access token.
    case token(id: UUID, personal: Bool)
}

/// A signed-in user, as every permission decision sees them.
public struct Identity: Sendable {
    public var userID: UUID
    public var email: String
    public var displayName: String
    public var roles: Set<Role>
    public var tenant: TenantRef
    public var secondFactorEnabled: Bool
    /// The tenant requires a second factor of all its users.
    public var secondFactorRequired: Bool
    public var credential: Credential
    /// Until when the identity stands without asking the database again: its session's absolute end or the moment
    /// it falls idle, its token's end (nil: no end). Only the identity cache reads it.
    public var validUntil: Date? = nil

    /// Signed in, but the tenant requires a second factor this account has not set up yet:
    /// until it has, only the own account can be used.
    public var mustSetUpSecondFactor: Bool { secondFactorRequired && !secondFactorEnabled }

    public func has(_ role: Role) -> Bool { roles.contains(role) }
}
