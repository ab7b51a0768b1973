import Foundation
import Ingest
import Platform
import WAL
import Wire

/// Helpers shared by the decoder and framer tests.
enum DecoderHarness {
    /// Nanoseconds since the epoch of a UTC civil time, computed with Foundation's calendar (an
    /// implementation independent of ``Timestamps``).
    static func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0, ns: Int64 = 0) -> Int64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second))!
        return Int64(date.timeIntervalSince1970) * 1_000_000_000 + ns
    }

    /// A fixed "now" for tests: 2026-11-21T12:00:00Z.
    static let now = utc(2026, 11, 21, 12)

    static func syslog(_ bytes: [UInt8], receivedAt: Int64 = now) -> CollectingSink {
        var decoder = SyslogDecoder()
        var sink = CollectingSink()
        ByteView.with(bytes) { decoder.decode($0, receivedAt: receivedAt, into: &sink) }
        return sink
    }

    static func json(_ bytes: [UInt8], receivedAt: Int64 = now) -> CollectingSink {
        var decoder = JSONLinesDecoder()
        var sink = CollectingSink()
        ByteView.with(bytes) { decoder.decode($0, receivedAt: receivedAt, into: &sink) }
        return sink
    }

    static func influx(_ bytes: [UInt8], precision: InfluxPrecision = .ns, receivedAt: Int64 = now) -> (CollectingSink, Int) {
        var decoder = InfluxLineDecoder()
        var sink = CollectingSink()
        let n = ByteView.with(bytes) { decoder.decode($0, precision: precision, receivedAt: receivedAt, into: &sink) }
        return (sink, n)
    }

    static func graphite(_ bytes: [UInt8], receivedAt: Int64 = now) -> CollectingSink {
        var decoder = GraphiteDecoder()
        var sink = CollectingSink()
        ByteView.with(bytes) { decoder.decode($0, receivedAt: receivedAt, into: &sink) }
        return sink
    }

    static func describe(_ sink: CollectingSink) -> String {
        "records: \(sink.records), sources: \(sink.sources), rejects: \(sink.rejects.map { "\($0.reason) <\($0.sample)>" })"
    }

    /// What a simulated connection saw: frames and reject reasons in order.
    enum Event: Equatable, CustomStringConvertible {
        case frame([UInt8])
        case reject(String)

        var description: String {
            switch self {
            case .frame(let b): "frame(\(String(decoding: b, as: UTF8.self).debugDescription))"
            case .reject(let r): "reject(\(r))"
            }
        }
    }

    /// Drives a framer like a connection handler: feeds `stream` in reads of `chunk` bytes, runs
    /// the `next` loop after each read, drops consumed bytes. Also returns the largest number of
    /// bytes left buffered after `.needMore`.
    static func drive(
        _ stream: [UInt8], chunk: Int, next: (ByteView) -> FrameStep
    ) -> (events: [Event], maxPending: Int, leftover: Int) {
        var buffer: [UInt8] = []
        var events: [Event] = []
        var maxPending = 0
        var offset = 0
        var guardCounter = 0
        while offset < stream.count {
            let end = min(stream.count, offset + chunk)
            buffer += stream[offset ..< end]
            offset = end
            var dropped = 0
            loop: while true {
                guardCounter += 1
                precondition(guardCounter < 1_000_000, "framer does not make progress")
                let step = ByteView.with(Array(buffer[dropped...])) { view -> FrameStep in
                    let step = next(view)
                    switch step {
                    case .frame(let range, _): events.append(.frame(view[range].bytes))
                    case .rejected(let reason, _): events.append(.reject(reason.description))
                    case .needMore: break
                    }
                    return step
                }
                precondition(step.consumed >= 0 && step.consumed <= buffer.count - dropped, "consumed out of range: \(step)")
                dropped += step.consumed
                if case .needMore = step { break loop }
            }
            buffer.removeFirst(dropped)
            maxPending = max(maxPending, buffer.count)
        }
        return (events, maxPending, buffer.count)
    }

    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
}
