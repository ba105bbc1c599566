import Prometheus

/// The server's HTTP figures for Prometheus, beside the job figures in the same registry (`GET /metrics`): requests by
/// route pattern, method and status class, their duration, and how many are in flight. Labels are route patterns
/// (`/faelle/{id}`), never raw paths, so the number of series stays bounded by the routes the server has.
public final class HTTPMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    static let durationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30),
    ]
    static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    private let inFlight: Gauge

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        self.inFlight = registry.makeGauge(
            descriptor: .init(namespace: "kreiswerk", metricName: "http_requests_in_flight", unitName: "", helpText: "Requests being answered now.")
        )
    }

    func started() { inFlight.increment() }

    /// One answered request: `route` is the pattern the router matched (`NotFound` when none did).
    func finished(method: String, route: String, status: Int, duration: Duration) {
        inFlight.decrement()
        let method = Self.methods.contains(method) ? method : "other"
        registry.makeCounter(
            descriptor: .init(
                namespace: "kreiswerk",
                metricName: "http_requests",
                unitName: "total",
                helpText: "Requests answered, by route pattern, method and status class (2xx, 3xx, 4xx, 5xx)."
            ),
            labels: [("route", route), ("method", method), ("status", "\(min(max(status / 100, 1), 5))xx")]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: .init(
                namespace: "kreiswerk",
                metricName: "http_request_duration",
                unitName: "seconds",
                helpText: "How long requests took to answer, by route pattern and method."
            ),
            labels: [("route", route), ("method", method)],
            buckets: Self.durationBuckets
        ).record(duration)
    }
}
