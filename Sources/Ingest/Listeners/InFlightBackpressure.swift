import NIOCore

/// Stops reading from a connection while the WAL is behind, the way NIO's
/// `BackPressureHandler` does: after a read that finds the ``InFlightGate`` over its limit, the
/// `read()` calls coming down the pipeline are withheld, so the kernel's receive buffer fills
/// and TCP pushes back on the sender. When the gate drains, the gate's resume action hops to
/// this connection's event loop and issues the withheld read.
///
/// Sits first in the pipeline, so every listener (native, syslog, JSON, Influx, Graphite)
/// gets the same behaviour without knowing about it. All methods run on the channel's event
/// loop; only the resume action crosses threads, and it hops back first.
final class InFlightBackpressure: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let gate: InFlightGate
    private var context: ChannelHandlerContext?
    private var paused = false
    private var readWithheld = false

    init(gate: InFlightGate) { self.gate = gate }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // The handlers behind decode and seal synchronously: the gate counts this read's batches.
        context.fireChannelRead(data)
        guard !paused, gate.isOverLimit else { return }
        paused = true
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        gate.pause { loop.execute { bound.value.resume() } }
    }

    func read(context: ChannelHandlerContext) {
        if paused {
            readWithheld = true
        } else {
            context.read()
        }
    }

    /// Whether reads are withheld now.
    var isPaused: Bool { paused }

    private func resume() {
        paused = false
        guard readWithheld, let context else { return }
        readWithheld = false
        context.read()
    }
}

@available(*, unavailable)
extension InFlightBackpressure: Sendable {}
