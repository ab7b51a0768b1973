import ArgumentParser
import Foundation
import Logging
import Server
import Settings
import WAL

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a Hypha node: ingest listeners, the write-ahead log and the HTTP API.",
        usage: "hypha serve [--config <file>] [--<setting> <value> ...]",
        discussion: """
            Opens (and recovers) the write-ahead log under --data, then listens on every enabled \
            port, bound to --bind (loopback by default). A port of 0 picks a free port; 'off' \
            disables a listener. When every listener is up, one JSON line \
            {"event":"ready","listeners":{...}} is printed on standard output.

            SIGTERM or SIGINT drains the node: it stops accepting, seals, writes and syncs every \
            batch, sends the last native acknowledgements, and exits 0.

            Every setting below is a flag (--flag VALUE or --flag=VALUE) and a key of the YAML \
            file given with --config (a dotted key is nested: limits.line_kib is line_kib under \
            limits:). Settings come from the defaults, then the file, then the flags. Unknown \
            flags and keys are errors.


            """ + ServeConfiguration.settings.help(defaults: ServeConfiguration())
    )

    @Option(help: "A YAML configuration file whose keys are the settings above; flags win over it.")
    var config: String?

    @Flag(help: .hidden) var settingsMarkdown = false

    /// The setting flags, read with ``ServeConfiguration/settings`` rather than declared one by one.
    @Argument(parsing: .allUnrecognized, help: .hidden) var settings: [String] = []

    func resolved() throws -> ServeConfiguration {
        var configuration = ServeConfiguration()
        if let config {
            guard let text = try? String(contentsOfFile: config, encoding: .utf8) else {
                throw ValidationError("cannot read configuration file \(config)")
            }
            do { try ServeConfiguration.settings.apply(yaml: text, to: &configuration) } catch {
                throw ValidationError("\(config): \(error)")
            }
        }
        do { try ServeConfiguration.settings.apply(arguments: settings, to: &configuration) } catch {
            throw ValidationError("\(error)")
        }
        return configuration
    }

    func run() async throws {
        if settingsMarkdown {
            print(ServeConfiguration.settings.markdown(defaults: ServeConfiguration()), terminator: "")
            return
        }
        let configuration = try resolved()
        var configured = Logger(label: "hypha")
        configured.logLevel = configuration.logLevel
        let logger = configured
        try await NodeRunner.run(configuration, logger: logger) { listeners in
            logger.info("hypha node ready", metadata: [
                "data": "\(configuration.dataDirectory)", "shards": "\(configuration.wal.shardCount)",
                "durability": "\(configuration.wal.durability)", "bind": "\(configuration.bindHost)",
            ])
            let fields = listeners.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",")
            var line = Array("{\"event\":\"ready\",\"listeners\":{\(fields)}}\n".utf8)
            _ = line.withUnsafeMutableBytes { write(1, $0.baseAddress, $0.count) }
        }
    }
}
