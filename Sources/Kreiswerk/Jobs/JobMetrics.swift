import Foundation
import Prometheus
import Synchronization

/// The queue's figures for Prometheus (`GET /metrics`): what this process ran (counters and
/// durations by kind and outcome), and what the whole queue holds, read from the database at
/// each scrape (jobs by queue and state, the lag of the oldest due job).
public final class JobMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let durationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10), .seconds(60),
    ]
    /// Gauges set at a scrape; queue/state pairs seen before are set to 0 when they are gone.
    private let seenStates = Mutex<Set<[String]>>([])

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    func finished(kind: String, outcome: String, duration: Duration) {
        registry.makeCounter(
            descriptor: .init(
                namespace: "kreiswerk",
                metricName: "jobs_finished",
                unitName: "total",
                helpText: "Job attempts run by this process, by kind and outcome."
            ),
            labels: [("kind", kind), ("outcome", outcome)]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: .init(
                namespace: "kreiswerk",
                metricName: "job_duration",
                unitName: "seconds",
                helpText: "How long job attempts ran in this process."
            ),
            labels: [("kind", kind)],
            buckets: durationBuckets
        ).recordNanoseconds(Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// Sets the queue gauges from `stats` and renders everything in the Prometheus text format.
    public func render(_ stats: JobQueue.Stats) -> String {
        let current = Set(stats.rows.map { [$0.queue, $0.state] })
        let vanished = seenStates.withLock { seen in
            defer { seen.formUnion(current) }
            return seen.subtracting(current)
        }
        for pair in vanished { gauge("jobs", "Jobs in the queue by queue and state.", pair).set(Double(0)) }
        for row in stats.rows {
            gauge("jobs", "Jobs in the queue by queue and state.", [row.queue, row.state]).set(Double(row.jobs))
        }
        registry.makeGauge(
            descriptor: .init(
                namespace: "kreiswerk",
                metricName: "jobs_lag",
                unitName: "seconds",
                helpText: "Age of the oldest due job that is still waiting."
            )
        ).set(stats.lagSeconds)
        return registry.emitToString()
    }

    private func gauge(_ name: String, _ help: String, _ pair: [String]) -> Gauge {
        registry.makeGauge(
            descriptor: .init(namespace: "kreiswerk", metricName: name, unitName: "", helpText: help),
            labels: [("queue", pair[0]), ("state", pair[1])]
        )
    }
}
