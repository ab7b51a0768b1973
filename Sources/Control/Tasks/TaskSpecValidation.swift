import Foundation
import Glibc

extension TaskSpec {
    /// The largest parameter value (a path glob or a command line), in bytes.
    public static let maxParameterBytes = 4096
    /// The most selector labels a task may require.
    public static let maxSelectorLabels = 32
    /// What `hostmetrics` can collect, in the order it is written back.
    public static let hostMetricsGroups = ["cpu", "memory", "load", "disk", "network"]
    /// The protocols a `listen` task can speak (the agent's `ListenProtocol`).
    public static let listenProtocols = ["syslog-tcp", "syslog-udp", "json-tcp"]
    /// When an `exec` task runs its command.
    public static let execModes = ["once", "interval", "keep_running"]

    /// This spec checked, with defaults filled in.
    ///
    /// - `stream`: 1...128 bytes of `A-Z a-z 0-9 . _ -`.
    /// - `tail`: `path` required and absolute (a glob is fine); `from` is `start` or `end`
    ///   (default `end`: where a file with no checkpoint starts); `multiline_start` a POSIX
    ///   extended regular expression; `max_line_kib` 1...1024.
    /// - `journald`: `from` is `start` or `end` (default `end`); `units` a comma list of systemd
    ///   unit names.
    /// - `exec`: `command` required (with `shell` `true` a shell command line; else a JSON array
    ///   of strings, or words separated by spaces); `mode` `once`, `interval` or `keep_running`
    ///   (default `interval` with `interval_seconds`, else `once`); `interval_seconds`
    ///   1...86400, for mode `interval` only; `timeout_seconds` 1...86400, not for
    ///   `keep_running`; `shell` `true` or `false`.
    /// - `hostmetrics`: `interval_seconds` 1...3600 (default 10); `collect` a comma list out
    ///   of `cpu,memory,load,disk,network` (default all), written back deduplicated in that order.
    /// - `listen`: `port` 1...65535 required; `protocol` `syslog-tcp`, `syslog-udp` or
    ///   `json-tcp` (default `syslog-tcp`); `address` an IPv4 or IPv6 literal (default
    ///   `127.0.0.1`); `max_line_kib` 1...1024; `queue_kib` 64...1048576.
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
            if let pattern = parameters["multiline_start"] { try Self.checkPattern(pattern) }
            if let kib = parameters["max_line_kib"] { spec.parameters["max_line_kib"] = String(try Self.integer(kib, "max_line_kib", 1 ... 1024)) }
        case .journald:
            let from = parameters["from"] ?? "end"
            guard from == "start" || from == "end" else { throw .invalid("parameters.from", "from is \"\(from)\"; it must be start or end") }
            spec.parameters["from"] = from
            if let units = parameters["units"] {
                let names = units.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard names.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(Self.isUnitNameByte) }) else {
                    throw .invalid("parameters.units", "units \"\(units)\" must be a comma list of systemd unit names (A-Z a-z 0-9 : _ . @ - \\)")
                }
                spec.parameters["units"] = names.joined(separator: ",")
            }
        case .exec:
            try Self.checkExec(parameters, into: &spec)
        case .hostmetrics:
            spec.parameters["interval_seconds"] = String(try Self.integer(parameters["interval_seconds"] ?? "10", "interval_seconds", 1 ... 3600))
            spec.parameters["collect"] = try Self.collectList(parameters["collect"])
        case .listen:
            guard let port = parameters["port"] else { throw .invalid("parameters.port", "a listen task needs parameter port (1...65535)") }
            spec.parameters["port"] = String(try Self.integer(port, "port", 1 ... 65_535))
            let proto = parameters["protocol"] ?? "syslog-tcp"
            guard Self.listenProtocols.contains(proto) else {
                throw .invalid("parameters.protocol", "protocol is \"\(proto)\"; it must be one of \(Self.listenProtocols.joined(separator: ", "))")
            }
            spec.parameters["protocol"] = proto
            let address = parameters["address"] ?? "127.0.0.1"
            guard Self.isAddressLiteral(address) else { throw .invalid("parameters.address", "address \"\(address)\" is not an IPv4 or IPv6 address") }
            spec.parameters["address"] = address
            if let kib = parameters["max_line_kib"] { spec.parameters["max_line_kib"] = String(try Self.integer(kib, "max_line_kib", 1 ... 1024)) }
            if let kib = parameters["queue_kib"] { spec.parameters["queue_kib"] = String(try Self.integer(kib, "queue_kib", 64 ... 1_048_576)) }
        }
        return spec
    }

    /// The parameters each kind takes.
    public static func knownParameters(_ kind: TaskKind) -> [String] {
        switch kind {
        case .tail: ["path", "from", "multiline_start", "max_line_kib"]
        case .journald: ["from", "units"]
        case .exec: ["command", "shell", "mode", "interval_seconds", "timeout_seconds"]
        case .hostmetrics: ["interval_seconds", "collect"]
        case .listen: ["port", "protocol", "address", "max_line_kib", "queue_kib"]
        }
    }

    /// The socket a `listen` task binds, as `tcp/<port>` or `udp/<port>`; `nil` for other kinds.
    /// Two listeners on one socket cannot share a host; a TCP and a UDP listener on one port can.
    public var listenSocket: String? {
        guard kind == .listen, let port = parameters["port"] else { return nil }
        return (parameters["protocol"] == "syslog-udp" ? "udp/" : "tcp/") + port
    }

    /// The `exec` parameters: the command's form, the mode and the limits that go with it.
    static func checkExec(_ parameters: [String: String], into spec: inout TaskSpec) throws(TaskError) {
        guard let command = parameters["command"], !command.allSatisfy(\.isWhitespace) else {
            throw .invalid("parameters.command", "an exec task needs parameter command")
        }
        let shell = parameters["shell"] ?? "false"
        guard shell == "true" || shell == "false" else { throw .invalid("parameters.shell", "shell is \"\(shell)\"; it must be true or false") }
        if shell == "false", command.first == "[" {
            let words = try? JSONDecoder().decode([String].self, from: Data(command.utf8))
            guard let words, let program = words.first, !program.isEmpty else {
                throw .invalid("parameters.command", "command \(command) is not a JSON array of strings naming a program (set shell to true for a shell command line)")
            }
        }
        var interval: Int?
        if let text = parameters["interval_seconds"] {
            interval = try Self.integer(text, "interval_seconds", 1 ... 86_400)
            spec.parameters["interval_seconds"] = String(interval!)
        }
        let mode = parameters["mode"] ?? (interval == nil ? "once" : "interval")
        guard execModes.contains(mode) else { throw .invalid("parameters.mode", "mode is \"\(mode)\"; it must be one of \(execModes.joined(separator: ", "))") }
        if mode == "interval", interval == nil { throw .invalid("parameters.interval_seconds", "mode interval needs interval_seconds (1 to 86400)") }
        if mode != "interval", interval != nil { throw .invalid("parameters.interval_seconds", "interval_seconds applies to mode interval only; mode is \(mode)") }
        if let text = parameters["timeout_seconds"] {
            guard mode != "keep_running" else { throw .invalid("parameters.timeout_seconds", "timeout_seconds does not apply to mode keep_running") }
            spec.parameters["timeout_seconds"] = String(try Self.integer(text, "timeout_seconds", 1 ... 86_400))
        }
    }

    /// A `multiline_start` pattern: a POSIX extended regular expression, as the daemon compiles it.
    static func checkPattern(_ pattern: String) throws(TaskError) {
        guard !pattern.isEmpty else { throw .invalid("parameters.multiline_start", "multiline_start is empty; leave it out for one record per line") }
        var regex = regex_t()
        let status = regcomp(&regex, pattern, REG_EXTENDED | REG_NOSUB)
        defer { if status == 0 { regfree(&regex) } }
        guard status == 0 else {
            var reason = [CChar](repeating: 0, count: 256)
            regerror(status, &regex, &reason, reason.count)
            throw .invalid("parameters.multiline_start", "multiline_start \"\(pattern)\" is not a POSIX extended regular expression: \(String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
    }

    /// The bytes of a systemd unit name (systemd.unit(5)).
    static func isUnitNameByte(_ b: UInt8) -> Bool {
        TextRules.isNameByte(b) || b == UInt8(ascii: ":") || b == UInt8(ascii: "@") || b == UInt8(ascii: "\\")
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
