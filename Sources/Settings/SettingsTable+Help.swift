extension SettingsTable {
    /// Every setting for `--help`, group by group: the flag with its value's form and its YAML
    /// key, then what it does, its default (as in `defaults`) and the values allowed. Lines fit
    /// in 79 columns, so the help reads the same on an 80-column terminal.
    ///
    /// ```
    /// WRITE-AHEAD LOG
    ///   --segment-mib <MiB>                   YAML: segment_mib
    ///         Segment file size (preallocated; a batch must fit in one). Default: 64.
    ///         Allowed: 1 to 4096 MiB.
    /// ```
    public func help(defaults: Root) -> String {
        var lines: [String] = []
        for group in groups {
            if !lines.isEmpty { lines.append("") }
            lines.append(group.title.uppercased())
            for setting in group.settings {
                let usage = setting.flag.map { setting.isSwitch ? "  --\($0)" : "  --\($0) \(setting.placeholder)" } ?? "  \(setting.key): \(setting.placeholder)"
                let origin = setting.flag == nil ? "YAML only" : "YAML: \(setting.key)"
                let padding = max(2, 40 - usage.count)
                lines.append(usage + String(repeating: " ", count: padding) + origin)
                lines += wrap(description(of: setting, defaults: defaults), width: 79, indent: 8)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Every setting as Markdown, for the documentation: per group a `###` heading and a table
    /// of flag, YAML key, default (as in `defaults`), allowed values and description.
    public func markdown(defaults: Root) -> String {
        var lines: [String] = []
        for group in groups {
            if !lines.isEmpty { lines.append("") }
            lines += ["### \(group.title)", "", "| Flag | YAML key | Default | Allowed | Description |", "|---|---|---|---|---|"]
            for setting in group.settings {
                let flag = setting.flag.map { "`--\($0)`" } ?? "(file only)"
                let help = setting.repeats ? setting.help + " Repeat the flag for several." : setting.help
                let cells = [flag, "`\(setting.key)`", setting.documentedDefault(defaults), setting.allowed, help]
                lines.append("| " + cells.map { $0.replacing("|", with: "\\|") }.joined(separator: " | ") + " |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The help paragraph of `setting`: what it does, its default, what is allowed.
    private func description(of setting: Setting<Root>, defaults: Root) -> String {
        var text = setting.help
        if setting.repeats { text += " Repeat the flag for several." }
        text += " Default: \(setting.documentedDefault(defaults))."
        if !setting.allowed.isEmpty { text += " Allowed: \(setting.allowed)." }
        return text
    }
}

/// `text` broken into lines of at most `width` columns at spaces, each indented by `indent`.
private func wrap(_ text: String, width: Int, indent: Int) -> [String] {
    let margin = String(repeating: " ", count: indent)
    var lines: [String] = []
    var line = ""
    for word in text.split(separator: " ") {
        if !line.isEmpty, margin.count + line.count + 1 + word.count > width {
            lines.append(margin + line)
            line = ""
        }
        line += (line.isEmpty ? "" : " ") + word
    }
    if !line.isEmpty { lines.append(margin + line) }
    return lines
}
