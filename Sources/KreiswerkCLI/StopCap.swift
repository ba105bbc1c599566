import Foundation
import Logging
import ServiceLifecycle

/// How long `serve` and `worker` may take to stop after SIGTERM or SIGINT: --stop-timeout, else
/// KREISWERK_STOP_SECONDS, else 10 s.
func stopCap(_ option: Double?) -> Duration {
    let seconds = option ?? ProcessInfo.processInfo.environment["KREISWERK_STOP_SECONDS"].flatMap(Double.init) ?? 10
    return .milliseconds(Int(max(1, seconds) * 1000))
}

/// Caps the time a stop may take. The group first stops gracefully (in-flight requests and started jobs finish), is
/// cancelled when `cap` less a second has passed, and this service ends the process at `cap` if something still does
/// not return (work waiting for a statement the driver lost cannot be cancelled, see DatabaseDeadline). Listed last in
/// its group, it hears of the shutdown first.
struct StopCap: Service {
    let cap: Duration
    let logger: Logger

    func run() async throws {
        // Returns when the group starts to shut down; throws when it is cancelled instead.
        guard (try? await gracefulShutdown()) != nil else { return }
        let started = ContinuousClock.now
        let cap = cap
        let logger = logger
        logger.info("stopping", metadata: ["cap_seconds": "\(cap.components.seconds)"])
        // A thread of its own: it fires even if every task is stuck.
        let seconds = Double(cap.components.seconds) + Double(cap.components.attoseconds) / 1e18
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
            logger.error(
                "work still running at the stop cap; exiting without it (its transactions roll back, its jobs' leases expire)",
                metadata: ["seconds": "\(ContinuousClock.now - started)"]
            )
            exit(EXIT_FAILURE)
        }
    }

    /// A group's settings with the cap: graceful until a second before it, then cancellation.
    static func configure(_ configuration: inout ServiceGroupConfiguration, cap: Duration) {
        configuration.maximumGracefulShutdownDuration = max(cap - .seconds(1), .milliseconds(500))
    }
}
