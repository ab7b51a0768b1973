import Foundation
import Hummingbird
import NIOCore

/// The request context of Hypha's HTTP API: Hummingbird's core context, the peer's address,
/// and the JSON encoder of every answer.
struct HyphaRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Encodes every JSON answer, errors included, with sorted keys: the order docs/api.md
    /// shows, and the encoding of `ClusterHealth.jsonString()`, which `/health` keeps byte for
    /// byte.
    var responseEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
