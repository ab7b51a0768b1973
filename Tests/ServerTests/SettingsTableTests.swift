import Settings
import Testing

/// A root with one field per kind of setting, for testing the table on its own.
private struct Sample: Sendable {
    struct Nested: Sendable { var depth = 1 }
    enum Mode: String, CaseIterable, CustomStringConvertible, Sendable {
        case fast, safe
        var description: String { rawValue }
    }

    var count = 4
    var size = 64 << 20
    var limit: Int? = 8 << 10
    var wait: Duration = .milliseconds(10)
    var age: Duration? = .seconds(2 * 3600)
    var name = "node"
    var note: String?
    var mode = Mode.fast
    var port: Int? = 7400
    var tags: Set<String> = []
    var servers: [String] = []
    var follow = false
    var pairs: [String: String] = [:]
    var nested = Nested()
}

private let table = SettingsTable<Sample>([
    .init("Numbers", [
        .integer("count", \.count, in: 1 ... 100, help: "A count."),
        .bytes("size_mib", \.size, unit: .mebibytes, in: 1 ... 4096, help: "A size."),
        .bytes("limit_kib", \.limit, unit: .kibibytes, upTo: 1000, zeroMeans: "no limit", help: "A limit."),
        .duration("wait_ms", \.wait, unit: .milliseconds, in: 1 ... 60_000, help: "A wait."),
        .duration("age_h", \.age, unit: .hours, upTo: 100, zeroMeans: "forever", help: "An age."),
    ]),
    .init("Words", [
        .text("name", \.name, placeholder: "name", help: "A name."),
        .text("note", \.note, placeholder: "text", help: "A note."),
        .choice("mode", \.mode, help: "A mode."),
        .port("ports.main", flag: "main-port", \.port, help: "A port."),
        .list("tags", flag: "tag", \.tags, placeholder: "tag", help: "Tags."),
        .list("servers", flag: "server", \.servers, placeholder: "host:port", help: "Servers, in order."),
        .toggle("follow", \.follow, help: "Keep going."),
        .mapping(
            "pairs", \.pairs, placeholder: "{<key>: <value>}", help: "Pairs.",
            parse: { entries, _ in Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 }) },
            show: { $0.isEmpty ? "(none)" : $0.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") }),
        .integer("nested.depth", flag: "depth", \.nested.depth, in: 0 ... 9, help: "A nested depth."),
    ]),
])

private func fromFlags(_ arguments: [String]) throws(SettingsError) -> Sample {
    var sample = Sample()
    try table.apply(arguments: arguments, to: &sample)
    return sample
}

private func fromYAML(_ text: String) throws(SettingsError) -> Sample {
    var sample = Sample()
    try table.apply(yaml: text, to: &sample)
    return sample
}

/// The message of the error `body` throws, or nil when it throws none.
private func message(_ body: () throws(SettingsError) -> Void) -> String? {
    do throws(SettingsError) {
        try body()
        return nil
    } catch {
        return error.message
    }
}

@Suite struct SettingsTableTests {
    @Test func everyKindReadsTheSameFromFlagsAndFromYAML() throws {
        let flags = try fromFlags([
            "--count", "7", "--size-mib", "3", "--limit-kib=5", "--wait-ms", "250", "--age-h", "3", "--name", "edge",
            "--note=hello world", "--mode", "SAFE", "--main-port", "off", "--tag", "a", "--tag=b", "--depth", "0",
        ])
        let yaml = try fromYAML("""
            count: 7
            size_mib: 3
            limit_kib: 5
            wait_ms: 250
            age_h: 3
            name: edge
            note: hello world
            mode: SAFE
            ports: {main: off}
            tags: [a, b]
            nested:
              depth: 0
            """)
        for (origin, sample) in [("flags", flags), ("YAML", yaml)] {
            #expect(sample.count == 7, "\(origin): count \(sample.count), expected 7")
            #expect(sample.size == 3 << 20, "\(origin): 3 MiB is \(sample.size) bytes, expected \(3 << 20)")
            #expect(sample.limit == 5 << 10, "\(origin): 5 KiB is \(String(describing: sample.limit)), expected \(5 << 10)")
            #expect(sample.wait == .milliseconds(250), "\(origin): wait \(sample.wait), expected 250 ms")
            #expect(sample.age == .seconds(3 * 3600), "\(origin): 3 h is \(String(describing: sample.age)), expected 10800 s")
            #expect(sample.name == "edge" && sample.note == "hello world", "\(origin): \(sample.name), \(String(describing: sample.note))")
            #expect(sample.mode == .safe, "\(origin): mode \(sample.mode), expected safe (choices ignore case)")
            #expect(sample.port == nil, "\(origin): port \(String(describing: sample.port)), expected off (nil)")
            #expect(sample.tags == ["a", "b"], "\(origin): tags \(sample.tags), expected a and b")
            #expect(sample.nested.depth == 0, "\(origin): nested depth \(sample.nested.depth), expected 0")
        }
        let pairs = try fromYAML("pairs: {x: '1', y: two}").pairs
        #expect(pairs == ["x": "1", "y": "two"], "a mapping from YAML: \(pairs)")
    }

    @Test func zeroMeansNoLimitAndPortsTakeNumbers() throws {
        let sample = try fromFlags(["--limit-kib", "0", "--age-h", "0", "--main-port", "0"])
        #expect(sample.limit == nil, "limit_kib 0 is no limit, got \(String(describing: sample.limit))")
        #expect(sample.age == nil, "age_h 0 is forever, got \(String(describing: sample.age))")
        #expect(sample.port == 0, "port 0 (any free port), got \(String(describing: sample.port))")
    }

    @Test(arguments: [
        (["--count", "0"], "--count must be between 1 and 100, got 0"),
        (["--size-mib=5000"], "--size-mib must be between 1 and 4096, got 5000"),
        (["--limit-kib", "-1"], "--limit-kib must be between 0 and 1000, got -1"),
        (["--wait-ms", "soon"], "--wait-ms must be a whole number, got 'soon'"),
        (["--age-h", "101"], "--age-h must be between 0 and 100, got 101"),
        (["--main-port", "70000"], "--main-port must be between 0 and 65535, or off, got 70000"),
        (["--main-port", "http"], "--main-port must be a port number or off, got 'http'"),
        (["--mode", "slow"], "--mode must be one of fast, safe, got 'slow'"),
        (["--count"], "--count needs a value (<n>)"),
        (["--count", "--depth", "1"], "--count needs a value (<n>)"),
        (["count", "3"], "unexpected argument 'count' (settings are flags: --flag value or --flag=value)"),
    ])
    func flagErrorsNameTheFlagTheRangeAndTheValue(arguments: [String], expected: String) {
        let produced = message { () throws(SettingsError) in _ = try fromFlags(arguments) }
        #expect(produced == expected, "\(arguments): produced \(produced ?? "no error"), expected \(expected)")
    }

    @Test(arguments: [
        ("count: 0", "'count' must be between 1 and 100, got 0 (line 1)"),
        ("name: x\nnested:\n  depth: 10", "'nested.depth' must be between 0 and 9, got 10 (line 3)"),
        ("tags: a", "'tags' must be a list (line 1)"),
        ("count: [1, 2]", "'count' takes a single value (line 1)"),
        ("nested: 3", "'nested' must be a mapping (line 1)"),
        ("- count", "the configuration must be a mapping of keys to values"),
    ])
    func yamlErrorsNameTheKeyTheRangeAndTheLine(text: String, expected: String) {
        let produced = message { () throws(SettingsError) in _ = try fromYAML(text) }
        #expect(produced == expected, "\(text): produced \(produced ?? "no error"), expected \(expected)")
    }

    @Test(arguments: [
        (["--cuont", "3"], "unknown flag '--cuont'; did you mean '--count'?"),
        (["--main-prot=1"], "unknown flag '--main-prot'; did you mean '--main-port'?"),
        (["--verbose"], "unknown flag '--verbose'"),
    ])
    func unknownFlagsAreErrorsThatSuggestTheClosest(arguments: [String], expected: String) {
        let produced = message { () throws(SettingsError) in _ = try fromFlags(arguments) }
        #expect(produced == expected, "produced \(produced ?? "no error"), expected \(expected)")
    }

    @Test(arguments: [
        ("sise_mib: 3", "unknown configuration key 'sise_mib'; did you mean 'size_mib'? (known: count, size_mib, limit_kib, wait_ms, age_h, name, note, mode, ports, tags, servers, follow, pairs, nested)"),
        ("nested:\n  dpeth: 1", "unknown configuration key 'nested.dpeth'; did you mean 'nested.depth'? (known: depth)"),
        ("colour: red", "unknown configuration key 'colour' (known: count, size_mib, limit_kib, wait_ms, age_h, name, note, mode, ports, tags, servers, follow, pairs, nested)"),
    ])
    func unknownKeysAreErrorsThatSuggestTheClosest(text: String, expected: String) {
        let error: SettingsError? = {
            do throws(SettingsError) {
                _ = try fromYAML(text)
                return nil
            } catch { return error }
        }()
        #expect(error?.message == expected, "produced \(error?.message ?? "no error"), expected \(expected)")
        #expect(error?.code == .unknownName, "code \(String(describing: error?.code)), expected unknown name")
    }

    @Test func flagsAppliedAfterTheFileWinAndListFlagsReplaceTheFileList() throws {
        var sample = try fromYAML("count: 5\nname: from-file\ntags: [a, b]")
        try table.apply(arguments: ["--count", "9", "--tag", "c", "--count=8"], to: &sample)
        #expect(sample.count == 8, "the last --count wins over the file's 5: \(sample.count)")
        #expect(sample.name == "from-file", "a key no flag sets keeps the file's value: \(sample.name)")
        #expect(sample.tags == ["c"], "the flags' list replaces the file's: \(sample.tags)")
    }

    @Test func anUnknownFlagAppliesNothing() {
        var sample = Sample()
        #expect(throws: SettingsError.self) { try table.apply(arguments: ["--count", "9", "--nope", "1"], to: &sample) }
        #expect(sample.count == 4, "--count was not applied before the unknown flag was found: \(sample.count)")
    }

    @Test func anEmptyDocumentChangesNothing() throws {
        let sample = try fromYAML("")
        #expect(sample.count == 4 && sample.size == 64 << 20, "defaults kept: \(sample.count), \(sample.size)")
    }

    @Test func valuesAreShownInTheSettingsOwnUnit() {
        let expected = [
            "count": "4", "size_mib": "64", "limit_kib": "8", "wait_ms": "10", "age_h": "2", "name": "node", "note": "(none)",
            "mode": "fast", "ports.main": "7400", "tags": "(none)", "servers": "(none)", "follow": "off", "pairs": "(none)",
            "nested.depth": "1",
        ]
        for setting in table.settings {
            let produced = setting.value(in: Sample())
            #expect(produced == expected[setting.key], "\(setting.key) shows \(produced), expected \(expected[setting.key] ?? "?")")
        }
    }

    @Test func aLiftedTableWritesIntoThePartItIsLiftedTo() throws {
        let inner = SettingsTable<Sample.Nested>([.init("Inner", [.integer("depth", \.depth, in: 0 ... 9, help: "Depth.")])])
        let lifted = inner.lifted(into: \Sample.nested)
        var sample = Sample()
        try lifted.apply(arguments: ["--depth", "6"], to: &sample)
        #expect(sample.nested.depth == 6, "lifted --depth stored in nested: \(sample.nested.depth)")
        let produced = message { () throws(SettingsError) in try lifted.apply(arguments: ["--depth", "10"], to: &sample) }
        #expect(produced == "--depth must be between 0 and 9, got 10", "the same range: \(produced ?? "no error")")
    }

    @Test func helpGroupsEverySettingWithItsKeyDefaultAndRangeWithin79Columns() {
        let help = table.help(defaults: Sample())
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "NUMBERS", "groups are titled: \(lines.first ?? "")")
        for line in lines { #expect(line.count <= 79, "\(line.count) columns: \(line)") }
        for expected in [
            "  --size-mib <MiB>                      YAML: size_mib",
            "        A size. Default: 64. Allowed: 1 to 4096 MiB.",
            "        A limit. Default: 8. Allowed: 0 to 1000 KiB; 0: no limit.",
            "  --main-port <port|off>                YAML: ports.main",
            "        Tags. Repeat the flag for several. Default: (none).",
            "  pairs: {<key>: <value>}               YAML only",
        ] {
            #expect(lines.contains { $0 == expected }, "help has the line '\(expected)':\n\(help)")
        }
    }

    @Test func markdownIsOneTablePerGroupWithPipesEscaped() {
        let markdown = table.markdown(defaults: Sample())
        for expected in [
            "### Words",
            "| Flag | YAML key | Default | Allowed | Description |",
            "| `--wait-ms` | `wait_ms` | 10 | 1 to 60000 ms | A wait. |",
            "| `--mode` | `mode` | fast | fast, safe | A mode. |",
            "| (file only) | `pairs` | (none) |  | Pairs. |",
        ] {
            #expect(markdown.contains(expected + "\n"), "the Markdown has the line '\(expected)':\n\(markdown)")
        }
    }
}

@Test func orderedListsKeepTheOrderGivenAndSwitchesNeedNoValue() throws {
    let flags = try fromFlags(["--server", "b:1", "--follow", "--server", "a:2", "--count", "5"])
    #expect(flags.servers == ["b:1", "a:2"])
    #expect(flags.follow)
    #expect(flags.count == 5)
    #expect(try fromFlags(["--follow=false"]).follow == false)
    #expect(try fromFlags(["--wait-ms", "25ms"]).wait == .milliseconds(25))
    let wrongUnit = message { () throws(SettingsError) in _ = try fromFlags(["--wait-ms", "25s"]) }
    #expect(wrongUnit != nil)
    let yaml = try fromYAML("servers:\n  - z:1\n  - y:2\nfollow: yes\n")
    #expect(yaml.servers == ["z:1", "y:2"])
    #expect(yaml.follow)
    let notASwitch = message { () throws(SettingsError) in _ = try fromFlags(["--follow=maybe"]) }
    #expect(notASwitch?.contains("on or off") == true)
    let help = table.help(defaults: Sample())
    #expect(help.contains("  --follow "))
    #expect(!help.contains("--follow <"))
}
