import Control
import Foundation
import Platform
import WAL
import Synchronization

// Shared helpers of the alerting tests.

enum JSONEncoderForTests {
    static func encode(_ value: some Encodable) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try e.encode(value)
    }
}

/// A hook that keeps what it receives.
final class RecordingHook: AlertHook {
    let name = "recorder"
    private let received = Mutex<[AlertNotification]>([])

    func deliver(_ notification: AlertNotification) throws(HookError) {
        received.withLock { $0.append(notification) }
    }

    var notifications: [AlertNotification] { received.withLock { $0 } }
    var events: [AlertEvent] { notifications.flatMap(\.events) }
}

func metricRule(
    _ name: String, metric: String = "m", _ aggregation: AlertAggregation, window: Double = 60, _ condition: AlertCondition,
    for forSeconds: Double = 0, keep: Double = 0, groupBy: [String] = [], matchers: [LabelMatcher] = []
) -> AlertRule {
    AlertRule(
        name: name, severity: .warning, selector: .metric(MetricSelector(metric: metric, matchers: matchers)),
        aggregation: aggregation, window: Int64(window * 1e9), condition: condition, for: Int64(forSeconds * 1e9),
        keepFiringFor: Int64(keep * 1e9), groupBy: groupBy)
}

func sample(_ seconds: Double, _ value: Double, name: String = "m", _ labels: [(String, String)] = []) -> MetricSample {
    MetricSample(timestamp: TestTime.at(seconds), name: name, value: value, labels: labels)
}
