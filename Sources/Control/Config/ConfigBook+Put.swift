extension ConfigBook {
    /// Makes a new version of `name` for the daemons `selector` picks, and pushes it all at
    /// once or starts a rollout.
    ///
    /// - Without a strategy the version is current at once (the previous current one is
    ///   superseded) and goes to every daemon of `online` it selects.
    /// - With one, a rollout starts over the selected daemons of `online`, sorted by id; the
    ///   first batch is pushed now. With no daemon selected, the rollout succeeds at once.
    ///
    /// The same content hash and selector as the latest version, when that version is current
    /// or rolling out, makes no new version: ``ConfigUpdate/unchanged`` is true and nothing is
    /// pushed, so a client may retry a PUT safely. The same content as a rolled-back version
    /// makes a new version (a retry).
    ///
    /// - Parameters:
    ///   - name: 1 to 128 bytes of `A-Z a-z 0-9 . _ -`.
    ///   - content: YAML or JSON text, at most 1 MiB.
    ///   - selector: the daemons the version is for.
    ///   - rollout: how it goes out; `nil` for all at once.
    ///   - comment: free text kept with the version.
    ///   - online: the connected daemons (also recorded as online here).
    ///   - now: nanoseconds since the epoch.
    /// - Returns: the version, the rollout and the pushes to send.
    /// - Throws: ``ControlRequestFailure/invalid`` for a bad name, strategy or document
    ///   (syntax errors name their line); ``ControlRequestFailure/limit`` over 1 MiB or
    ///   past `maxDocuments` names; ``ControlRequestFailure/conflict`` while a rollout of
    ///   the name is running or paused.
    public mutating func put(
        name: String, content: [UInt8], selector: DaemonSelector, rollout: RolloutStrategy?, comment: String, online: [DaemonCandidate], now: Int64
    ) throws(ConfigError) -> ConfigUpdate {
        try ConfigContent.validate(name: name)
        let strategy = try rollout?.validated()
        let (text, format) = try ConfigContent.parse(content)
        let hash = ConfigContent.hash(content)
        see(online)

        let active = activeRollout(of: name)
        if let latest = documents[name]?.last, latest.hash == hash, latest.selector == selector,
           latest.status == .current || latest.status == .rollingOut {
            return ConfigUpdate(document: latest, rollout: latest.status == .rollingOut ? active : nil, commands: [], unchanged: true)
        }
        if let active {
            throw ConfigError(.conflict, "rollout \(active.id) of '\(name)' (version \(active.toVersion)) is \(active.state.rawValue); abort it or wait for it to finish")
        }
        if documents[name] == nil, documents.count >= maxDocuments {
            throw ConfigError(.limit, "there are already \(documents.count) configuration documents, the most kept")
        }

        let version = (documents[name]?.last?.version ?? 0) + 1
        let doc = ConfigDocument(
            name: name, version: version, format: format, hash: hash, selector: selector, content: text, comment: comment, createdAt: now,
            status: strategy == nil ? .current : .rollingOut)
        documents[name, default: []].append(doc)
        changedDocuments.insert(VersionKey(name: name, version: version))

        var seen = Set<String>()
        let targets = online.filter { selector.matches($0) && seen.insert($0.id).inserted }.sorted { $0.id < $1.id }
        var commands: [ConfigCommand] = []
        var started: Rollout?
        if let strategy {
            var r = Rollout(
                id: "r-\(nextRolloutNumber)", name: name, fromVersion: current(name)?.version, toVersion: version, strategy: strategy,
                state: .running, currentBatch: 0, batchCount: 0, daemons: [], reason: "", createdAt: now, updatedAt: now)
            nextRolloutNumber += 1
            let length = strategy.batchLength(of: targets.count)
            r.batchCount = (targets.count + length - 1) / length
            r.daemons = targets.enumerated().map { RolloutDaemon(id: $1.id, batch: $0 / length) }
            rolloutOrder.append(r.id)
            activeRollouts[name] = r.id
            commands = startBatch(&r, now: now)
            commands += advance(&r, now: now)
            store(r)
            started = r
        } else {
            makeCurrent(name, version)
            let push = doc.push
            commands = targets.map { command(push, to: $0.id, now: now) }
        }
        trimVersions(of: name)
        trimRollouts()
        return ConfigUpdate(document: document(name, version: version) ?? doc, rollout: started.flatMap { rolloutsByID[$0.id] }, commands: commands, unchanged: false)
    }
}
