import Dispatch
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// How long `serve` and `worker` may take to stop after SIGTERM or SIGINT: --stop-timeout, else
/// KREISWERK_STOP_SECONDS, else 10 s.
func stopCap(_ option: Double?) -> Duration {
    let seconds = option ?? ProcessInfo.processInfo.environment["KREISWERK_STOP_SECONDS"].flatMap(Double.init) ?? 10
    return .milliseconds(Int(max(1, seconds) * 1000))
}

/// Caps the time a stop may take. The group first stops gracefully (in-flight requests and started jobs finish), is
/// cancelled when `cap` less a second has passed, and this service ends the process at `cap` if something still does
/// not return (work waiting for a statement the driver lost cannot be cancelled, see DatabaseDeadline).
///
/// The cap is armed outside Swift concurrency: by the signal itself, through a dispatch source on a queue of its own,
/// and the exit comes from a dispatch timer. So it holds even when no task can run any more (a blocked thread pool, a
/// group that never reaches this service). It is also armed when the group stops for another reason (the worker
/// failed, the group was cancelled). Listed last in its group, it hears of the shutdown first.
struct StopCap: Service {
    let cap: Duration
    let logger: Logger

    func run() async throws {
        let alarm = Alarm(cap: cap, logger: logger)
        let sources = [SIGTERM, SIGINT].map { signal in
            let source = DispatchSource.makeSignalSource(signal: signal, queue: Alarm.queue)
            source.setEventHandler { alarm.arm(reason: signal == SIGTERM ? "SIGTERM" : "SIGINT") }
            source.resume()
            return source
        }
        // Returns when the group starts to shut down; throws when it is cancelled instead. Either way the group ends.
        let graceful = (try? await gracefulShutdown()) != nil
        alarm.arm(reason: graceful ? "graceful shutdown" : "cancelled")
        withExtendedLifetime(sources) {}
    }

    /// A group's settings with the cap: graceful until a second before it, then cancellation.
    static func configure(_ configuration: inout ServiceGroupConfiguration, cap: Duration) {
        configuration.maximumGracefulShutdownDuration = max(cap - .seconds(1), .milliseconds(500))
    }

    /// Ends the process `cap` after it is first armed.
    final class Alarm: Sendable {
        static let queue = DispatchQueue(label: "kreiswerk.stop-cap")
        let cap: Duration
        let logger: Logger
        private let armed = Mutex(false)

        init(cap: Duration, logger: Logger) {
            self.cap = cap
            self.logger = logger
        }

        func arm(reason: String) {
            guard
                armed.withLock({ armed in
                    defer { armed = true }
                    return !armed
                })
            else { return }
            let started = ContinuousClock.now
            let seconds = Double(cap.components.seconds) + Double(cap.components.attoseconds) / 1e18
            logger.info("stopping", metadata: ["cap_seconds": "\(cap.components.seconds)", "on": "\(reason)"])
            let logger = logger
            Self.queue.asyncAfter(deadline: .now() + seconds) {
                logger.error(
                    "work still running at the stop cap; exiting without it (its transactions roll back, its jobs' leases expire)",
                    metadata: ["seconds": "\(ContinuousClock.now - started)"]
                )
                // _exit, not exit: atexit handlers could wait for the very threads that are stuck.
                fflush(nil)
                _exit(EXIT_FAILURE)
            }
        }
    }
}
