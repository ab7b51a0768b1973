import Control
import Foundation
import Testing

@Suite struct TopologyTests {
    @Test func unnamedShardsAreInTheDefaultRegion() throws {
        let single = Topology()
        #expect(single.regions(shardCount: 4) == ["default"])
        #expect(single.region(ofShard: 3) == "default")
        let split = Topology(shardRegions: [0: "eu-west", 1: "eu-west", 2: "us-east"])
        #expect(split.regions(shardCount: 4) == ["default", "eu-west", "us-east"], "shard 3 is unnamed")
        #expect(split.regions(shardCount: 3) == ["eu-west", "us-east"])
        #expect(split.region(ofShard: 2) == "us-east")
    }

    @Test func validationNamesTheProblem() {
        #expect(throws: TopologyError.self) { try Topology(shardRegions: [7: "x"]).validate(shardCount: 4) }
        do {
            try Topology(shardRegions: [1: ""]).validate(shardCount: 4)
            Issue.record("an empty region name was accepted")
        } catch {
            #expect(error.description.contains("shard 1"))
        }
    }

    @Test func roundTripsThroughJSON() throws {
        let t = Topology(shardRegions: [0: "a", 3: "b"])
        let back = try JSONDecoder().decode(Topology.self, from: JSONEncoder().encode(t))
        #expect(back == t)
    }
}
