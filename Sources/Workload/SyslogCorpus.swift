public import WAL

/// A small, fast, deterministic random generator (SplitMix64) so corpora are reproducible.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Realistic log traffic: nginx access lines, JSON application logs with request ids, sshd,
/// systemd, postgres and kernel messages from a fleet of hosts. Deterministic for a seed.
public struct SyslogCorpus: Sendable {
    private var rng: SplitMix64
    private let hosts: [String]
    /// Start of the generated timeline (ns since the epoch); advances ~1 ms per record.
    public private(set) var clock: Int64

    public init(seed: UInt64 = 42, hostCount: Int = 64, startNanoseconds: Int64 = 1_795_000_000_000_000_000) {
        rng = SplitMix64(seed: seed)
        hosts = (0 ..< hostCount).map { i in ["web", "api", "db", "cache"][i % 4] + "-\(i / 4 + 1).eu-west" }
        clock = startNanoseconds
    }

    private mutating func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
    private mutating func number(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    private mutating func hex(_ n: Int) -> String {
        String((0 ..< n).map { _ in Array("0123456789abcdef")[Int(rng.next() & 15)] })
    }

    /// The next record as a structured log record.
    public mutating func nextRecord() -> LogRecord {
        clock += Int64(number(200_000 ... 1_800_000))
        let host = pick(hosts)
        let (app, severity, message) = nextMessage()
        return LogRecord(timestamp: clock, severity: severity, facility: 1, host: host, app: app, message: message)
    }

    /// The next record as an RFC 5424 line (without a trailing newline).
    public mutating func nextRFC5424Line() -> String {
        let r = nextRecord()
        let pri = Int(r.facility) * 8 + Int(r.severity)
        return "<\(pri)>1 \(RecordJSON.rfc3339(r.timestamp).prefix(26))Z \(r.host) \(r.app) \(number(100 ... 65000)) - - \(r.message)"
    }

    private mutating func nextMessage() -> (String, UInt8, String) {
        switch number(0 ... 99) {
        case 0 ..< 40:
            let path = pick(["/", "/api/v1/orders", "/api/v1/users/\(number(1 ... 99999))", "/static/app.js", "/healthz", "/login"])
            let status = pick([200, 200, 200, 200, 201, 204, 301, 304, 404, 500])
            let agent = pick(["Mozilla/5.0 (X11; Linux x86_64)", "curl/7.88.1", "Go-http-client/1.1", "kube-probe/1.29"])
            return ("nginx", status >= 500 ? 3 : 6,
                "10.\(number(0 ... 255)).\(number(0 ... 255)).\(number(1 ... 254)) - - \"\(pick(["GET", "GET", "POST", "PUT"])) \(path) HTTP/1.1\" \(status) \(number(0 ... 48000)) \"-\" \"\(agent)\" rt=0.\(number(1 ... 999))")
        case 40 ..< 65:
            let level = pick(["info", "info", "info", "warn", "error", "debug"])
            return ("orders", level == "error" ? 3 : level == "warn" ? 4 : 6,
                "{\"level\":\"\(level)\",\"msg\":\"\(pick(["order created", "payment authorised", "cache miss", "retrying upstream", "inventory reserved"]))\",\"request_id\":\"\(hex(16))\",\"user\":\(number(1 ... 500000)),\"latency_ms\":\(number(1 ... 900))}")
        case 65 ..< 77:
            return ("sshd", 6, pick([
                "Accepted publickey for deploy from 10.0.\(number(0 ... 255)).\(number(1 ... 254)) port \(number(30000 ... 65000)) ssh2: ED25519 SHA256:\(hex(22))",
                "Disconnected from user deploy 10.0.\(number(0 ... 255)).\(number(1 ... 254)) port \(number(30000 ... 65000))",
                "Invalid user admin from 203.0.113.\(number(1 ... 254)) port \(number(30000 ... 65000))",
            ]))
        case 77 ..< 87:
            return ("systemd", 6, pick([
                "Started session-\(number(1 ... 9999)).scope - Session \(number(1 ... 9999)) of User deploy.",
                "logrotate.service: Deactivated successfully.",
                "Finished apt-daily.service - Daily apt download activities.",
            ]))
        case 87 ..< 95:
            return ("postgres", pick([6, 6, 4]), pick([
                "LOG:  duration: \(number(1 ... 5000)).\(number(100 ... 999)) ms  statement: SELECT * FROM orders WHERE id = \(number(1 ... 9_999_999))",
                "LOG:  checkpoint complete: wrote \(number(10 ... 9000)) buffers (\(number(0 ... 9)).\(number(0 ... 9))%); 0 WAL file(s) added",
                "WARNING:  there is already a transaction in progress",
            ]))
        default:
            return ("kernel", pick([4, 6]), pick([
                "[\(number(1000 ... 999_999)).\(number(100_000 ... 999_999))] TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.",
                "[\(number(1000 ... 999_999)).\(number(100_000 ... 999_999))] EXT4-fs (vda1): re-mounted. Opts: (null). Quota mode: none.",
            ]))
        }
    }

    /// Encodes records into one batch payload of about `targetBytes` uncompressed.
    public mutating func nextBatch(targetBytes: Int) -> BatchDraft {
        var payload: [UInt8] = []
        payload.reserveCapacity(targetBytes + 1024)
        var count = 0
        var minTs = Int64.max
        var maxTs = Int64.min
        while payload.count < targetBytes {
            let r = nextRecord()
            RecordEncoder.append(r, to: &payload)
            count += 1
            minTs = min(minTs, r.timestamp)
            maxTs = max(maxTs, r.timestamp)
        }
        return BatchDraft(payload: payload, recordCount: count, minTimestamp: minTs, maxTimestamp: maxTs)
    }
}
