import Glibc

extension TaskSpec {
    /// The largest parameter value (a path glob or a command line), in bytes.
    public static let maxParameterBytes = 4096
    /// The most selector labels a task may require.
    public static let maxSelectorLabels = 32
    /// What `hostmetrics` can collect, in the order it is written back.
    public static let hostMetricsGroups = ["cpu", "memory", "load", "disk", "network"]
    /// The protocols a `listen` task can speak.
    public static let listenProtocols = ["syslog", "lines", "json", "influx"]

    /// This spec checked, with defaults filled in.
    ///
    /// - `stream`: 1...128 bytes of `A-Z a-z 0-9 . _ -`.
    /// - `tail`: `path` required and absolute (a glob is fine); `from` is `start` or `end`
    ///   (default `end`: where a file with no checkpoint starts).
    /// - `exec`: `command` required; `interval_seconds` 1...86400 (without it the command runs
    ///   once and its stdout is followed until it exits).
    /// - `hostmetrics`: `interval_seconds` 1...3600 (default 10); `collect` a comma list out
    ///   of `cpu,memory,load,disk,network` (default all), written back deduplicated in that order.
    /// - `listen`: `port` 1...65535 required; `protocol` `syslog|lines|json|influx` (default
    ///   `syslog`); `address` an IPv4 or IPv6 literal (default `0.0.0.0`).
    ///
    /// Parameters a kind does not know are an error naming them; values are at most
    /// ``maxParameterBytes``.
    /// - Throws: ``TaskError`` of kind ``ControlRequestFailure/invalid``; its message names the
    ///   field, and its ``TaskError/field`` is the field's path (`parameters.path`).
    public func validated() throws(TaskError) -> TaskSpec {
        var spec = self
        try Self.checkStream(stream)
        if selector.labels.count > Self.maxSelectorLabels {
            throw .invalid("selector.labels", "selector has \(selector.labels.count) labels; at most \(Self.maxSelectorLabels)")
        }
        if let region = selector.region, region.isEmpty { throw .invalid("selector.region", "selector region is empty; leave it out to mean any region") }
        let known = Self.knownParameters(kind)
        let unknown = parameters.keys.filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw .invalid("parameters", "unknown parameter\(unknown.count == 1 ? "" : "s") for \(kind == .exec ? "an" : "a") \(kind.rawValue) task: \(unknown.joined(separator: ", ")) (known: \(known.sorted().joined(separator: ", ")))")
        }
        for (key, value) in parameters where value.utf8.count > Self.maxParameterBytes {
            throw .invalid("parameters.\(key)", "parameter \(key) is \(value.utf8.count) bytes; at most \(Self.maxParameterBytes)")
        }
        switch kind {
        case .tail:
            guard let path = parameters["path"], !path.isEmpty else { throw .invalid("parameters.path", "a tail task needs parameter path (an absolute file path or glob)") }
            guard path.hasPrefix("/") else { throw .invalid("parameters.path", "path \"\(path)\" is not absolute; it must start with /") }
            let from = parameters["from"] ?? "end"
            guard from == "start" || from == "end" else { throw .invalid("parameters.from", "from is \"\(from)\"; it must be start or end") }
            spec.parameters["from"] = from
        case .exec:
            guard let command = parameters["command"], !command.allSatisfy(\.isWhitespace) else {
                throw .invalid("parameters.command", "an exec task needs parameter command")
            }
            if let interval = parameters["interval_seconds"] {
                spec.parameters["interval_seconds"] = String(try Self.integer(interval, "interval_seconds", 1 ... 86_400))
            }
        case .hostmetrics:
            spec.parameters["interval_seconds"] = String(try Self.integer(parameters["interval_seconds"] ?? "10", "interval_seconds", 1 ... 3600))
            spec.parameters["collect"] = try Self.collectList(parameters["collect"])
        case .listen:
            guard let port = parameters["port"] else { throw .invalid("parameters.port", "a listen task needs parameter port (1...65535)") }
            spec.parameters["port"] = String(try Self.integer(port, "port", 1 ... 65_535))
            let proto = parameters["protocol"] ?? "syslog"
            guard Self.listenProtocols.contains(proto) else {
                throw .invalid("parameters.protocol", "protocol is \"\(proto)\"; it must be one of \(Self.listenProtocols.joined(separator: ", "))")
            }
            spec.parameters["protocol"] = proto
            let address = parameters["address"] ?? "0.0.0.0"
            guard Self.isAddressLiteral(address) else { throw .invalid("parameters.address", "address \"\(address)\" is not an IPv4 or IPv6 address") }
            spec.parameters["address"] = address
        }
        return spec
    }

    /// The parameters each kind takes.
    public static func knownParameters(_ kind: TaskKind) -> [String] {
        switch kind {
        case .tail: ["path", "from"]
        case .exec: ["command", "interval_seconds"]
        case .hostmetrics: ["interval_seconds", "collect"]
        case .listen: ["port", "protocol", "address"]
        }
    }

    static func checkStream(_ stream: String) throws(TaskError) {
        let bytes = stream.utf8
        guard (1 ... 128).contains(bytes.count) else { throw .invalid("stream", "stream must be 1 to 128 bytes; it is \(bytes.count)") }
        for b in bytes where !TextRules.isNameByte(b) {
            throw .invalid("stream", "stream \"\(stream)\" may only contain A-Z, a-z, 0-9, '.', '_' and '-'")
        }
    }

    /// A decimal integer (digits only) in `range`.
    static func integer(_ text: String, _ name: String, _ range: ClosedRange<Int>) throws(TaskError) -> Int {
        guard !text.isEmpty, text.utf8.count <= 12, text.utf8.allSatisfy({ (UInt8(ascii: "0") ... UInt8(ascii: "9")).contains($0) }),
            let value = Int(text)
        else { throw .invalid("parameters.\(name)", "\(name) is \"\(text)\"; it must be a whole number from \(range.lowerBound) to \(range.upperBound)") }
        guard range.contains(value) else { throw .invalid("parameters.\(name)", "\(name) is \(value); it must be from \(range.lowerBound) to \(range.upperBound)") }
        return value
    }

    static func collectList(_ text: String?) throws(TaskError) -> String {
        guard let text else { return hostMetricsGroups.joined(separator: ",") }
        var wanted = Set<String>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = item.trimmingSpaces
            guard hostMetricsGroups.contains(name) else {
                throw .invalid("parameters.collect", "collect names \"\(name)\"; it must be a comma list of \(hostMetricsGroups.joined(separator: ", "))")
            }
            wanted.insert(name)
        }
        return hostMetricsGroups.filter(wanted.contains).joined(separator: ",")
    }

    /// Whether `text` is an IPv4 or IPv6 address literal as `inet_pton(3)` reads it, which is
    /// what the daemon's listener will bind. Host names are not accepted: a listener binds an
    /// address.
    static func isAddressLiteral(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET, text, &address) == 1 || inet_pton(AF_INET6, text, &address) == 1
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
