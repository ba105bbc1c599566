import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The reverse proxies whose `X-Forwarded-For` and `X-Request-Id` Kreiswerk believes (KREISWERK_TRUSTED_PROXIES).
///
/// A client can send any `X-Forwarded-For` it likes; only what a trusted proxy appended is true. So the header counts
/// only when the connection comes from a trusted proxy, and then the client is the right-most address in it that is not
/// itself a trusted proxy (Caddy and nginx append the address they were connected from). The left-most entry, which the
/// client wrote, is never taken. The client address feeds the sign-in throttle and the audit trail.
public struct TrustedProxies: Sendable, Equatable, CustomStringConvertible {
    /// An address with the length of its network prefix: `10.0.0.0/8`, `::1/128`.
    struct Network: Sendable, Equatable {
        var bytes: [UInt8]
        var prefix: Int

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            var remaining = prefix
            for (mine, theirs) in zip(bytes, address) where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if mine & mask != theirs & mask { return false }
                remaining -= bits
            }
            return true
        }
    }

    let networks: [Network]
    public let description: String

    /// Trusts nobody: the client address is the connection's peer.
    public static let none = TrustedProxies(networks: [], description: "")
    /// A proxy on the same machine (127.0.0.0/8 and ::1), as ops/caddy runs it.
    public static let loopback = try! TrustedProxies("127.0.0.0/8, ::1")

    private init(networks: [Network], description: String) {
        self.networks = networks
        self.description = description
    }

    /// A comma- or space-separated list of addresses and networks: `127.0.0.1, 10.1.0.0/16, fd00::/8`.
    public init(_ list: String) throws {
        var networks: [Network] = []
        for item in list.split(whereSeparator: { $0 == "," || $0 == " " }) where !item.isEmpty {
            let parts = item.split(separator: "/", maxSplits: 1)
            guard let bytes = Self.parse(String(parts[0])) else {
                throw ConfigurationError("'\(item)' in KREISWERK_TRUSTED_PROXIES is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8, ::1)")
            }
            var prefix = bytes.count * 8
            if parts.count == 2 {
                guard let given = Int(parts[1]), (0...prefix).contains(given) else {
                    throw ConfigurationError("'\(item)' in KREISWERK_TRUSTED_PROXIES has no valid prefix length (0 to \(prefix))")
                }
                prefix = given
            }
            networks.append(Network(bytes: bytes, prefix: prefix))
        }
        self.init(networks: networks, description: networks.isEmpty ? "" : list)
    }

    public var isEmpty: Bool { networks.isEmpty }

    /// Whether `address` (text as the socket gives it) belongs to a trusted proxy.
    public func trusts(_ address: String?) -> Bool {
        guard let address, let bytes = Self.parse(address) else { return false }
        return networks.contains { $0.contains(bytes) }
    }

    /// The client of a request that came from `peer` with these `X-Forwarded-For` header values (in order).
    /// From anyone but a trusted proxy the header is ignored; from a proxy, its right-most untrusted valid address.
    public func clientAddress(peer: String?, forwardedFor: [String]) -> String? {
        guard trusts(peer) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() {
            guard let bytes = Self.parse(hop) else { return peer }  // not an address: the chain is broken here
            if !networks.contains(where: { $0.contains(bytes) }) { return Self.text(bytes) }
        }
        return peer
    }

    /// The bytes of an IPv4 or IPv6 address (an IPv4-mapped IPv6 address as IPv4), nil for anything else.
    static func parse(_ text: String) -> [UInt8]? {
        var address = text
        if address.hasPrefix("[") && address.hasSuffix("]") { address = String(address.dropFirst().dropLast()) }
        if let zone = address.firstIndex(of: "%") { address = String(address[..<zone]) }
        guard !address.isEmpty, address.count <= 45 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, address, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return Array(bytes[12...]) }
        return bytes
    }

    /// The canonical text of an address's bytes.
    static func text(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var v6 = in6_addr()
        withUnsafeMutableBytes(of: &v6) { $0.copyBytes(from: bytes) }
        guard inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
