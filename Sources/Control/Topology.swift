/// Which region each shard belongs to: configuration, replaceable at run time
/// (`PUT /api/v1/topology`). With no configuration every shard is in ``defaultRegion``.
public struct Topology: Sendable, Equatable, Codable {
    /// The region of a shard the topology does not name.
    public static let defaultRegion = "default"

    /// Shard index → region name.
    public var shardRegions: [Int: String]

    public init(shardRegions: [Int: String] = [:]) { self.shardRegions = shardRegions }

    /// The region of `shard`.
    public func region(ofShard shard: Int) -> String { shardRegions[shard] ?? Self.defaultRegion }

    /// Every region named, plus the default one when some of `shardCount` shards are unnamed.
    public func regions(shardCount: Int) -> [String] {
        var names = Set(shardRegions.values)
        if (0 ..< shardCount).contains(where: { shardRegions[$0] == nil }) { names.insert(Self.defaultRegion) }
        return names.sorted()
    }

    /// Checks a topology against the node's shard count.
    /// - Throws: a message naming the first shard out of range or the first empty region name.
    public func validate(shardCount: Int) throws(TopologyError) {
        for (shard, region) in shardRegions.sorted(by: { $0.key < $1.key }) {
            guard (0 ..< shardCount).contains(shard) else {
                throw TopologyError("shard \(shard) does not exist (this node has shards 0...\(shardCount - 1))")
            }
            guard !region.isEmpty else { throw TopologyError("shard \(shard) has an empty region name") }
        }
    }
}

/// A topology that cannot be used, with the reason.
public struct TopologyError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
