import Agent
import Foundation
import ArgumentParser
import Logging
import Settings

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run the daemon of a host: read logs and metrics, spool them, send them to a node.",
        usage: "hypha agent --server <host:port> [--config <file>] [--<setting> <value> ...]",
        discussion: """
            The agent says HELLO to the first node of --server it reaches, runs the tasks the \
            control plane assigns to it (tail, journald, exec, hostmetrics, listen) and the \
            inputs named here (--tail, --journald, --hostmetrics), and applies the configuration \
            documents the control plane pushes. Every batch stays in the spool (--spool) until \
            a node acknowledges it: restarts and node outages lose nothing, and the node's \
            exactly-once rule keeps out what is sent twice. When the spool holds --spool-mib, \
            inputs stop reading until acknowledgements free room.

            Quick start, without a control plane:
              hypha agent --server node:7400 --tail '/var/log/*.log' --journald --hostmetrics 10s

            SIGTERM or SIGINT stops the inputs, sends what is spooled for at most \
            --drain-timeout-s, and keeps the rest for the next start. The agent's own log goes to \
            standard error (--log-format logfmt or json), never into its own pipeline.

            Every setting below is a flag (--flag VALUE or --flag=VALUE) and a key of the YAML \
            file given with --config. Settings come from the defaults, then the file, then the \
            flags; configuration the control plane pushes applies over them.


            """ + AgentConfiguration.settings.help(defaults: AgentConfiguration())
    )

    @Option(help: "A YAML configuration file whose keys are the settings above; flags win over it.")
    var config: String?

    @Flag(help: .hidden) var settingsMarkdown = false

    @Argument(parsing: .allUnrecognized, help: .hidden) var settings: [String] = []

    func run() async throws {
        if settingsMarkdown {
            print(AgentConfiguration.settings.markdown(defaults: AgentConfiguration()), terminator: "")
            return
        }
        var configuration = AgentConfiguration()
        if let config {
            guard let text = try? String(contentsOfFile: config, encoding: .utf8) else {
                throw ValidationError("cannot read configuration file \(config)")
            }
            do { try AgentConfiguration.settings.apply(yaml: text, to: &configuration) } catch {
                throw ValidationError("\(config): \(error)")
            }
        }
        do { try AgentConfiguration.settings.apply(arguments: settings, to: &configuration) } catch {
            throw ValidationError("\(error)")
        }
        let (format, level) = (configuration.logFormat, configuration.logLevel)
        LoggingSystem.bootstrap { _ in AgentLogHandler(format: format, level: level) }
        let logger = Logger(label: "hypha-agent")
        do { try await AgentRunner.run(configuration, logger: logger) } catch let error as AgentError {
            throw ValidationError(error.message)
        }
    }
}
