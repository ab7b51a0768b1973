import Glibc
import Platform

/// The lines coming out of one pipe, read without blocking and cut by a ``RecordFramer``
/// (no multiline): what a child printed, line by line.
///
/// It reads only while fewer than a window of bytes wait to be emitted, so a reader that stops
/// emitting leaves the rest in the pipe, and the child blocks on a full pipe instead of memory
/// growing. Once the pipe has ended, a last line without LF is a line too.
///
/// Thread: its owner's thread.
struct PipeLines {
    private let framer: RecordFramer
    private var storage: [UInt8]
    private var start = 0
    private var end = 0
    /// The pipe has ended (or failed): nothing more will come.
    private(set) var isAtEnd = false

    init(maxLineBytes: Int) {
        framer = RecordFramer(maxRecordBytes: maxLineBytes, startPattern: nil)
        storage = [UInt8](repeating: 0, count: framer.windowBytes + Self.chunk)
    }

    private static let chunk = 64 * 1024

    /// Whether every byte read was emitted and the pipe has ended.
    var isDone: Bool { isAtEnd && start == end }

    /// Reads what `descriptor` has now, while fewer than a window of bytes wait; whether
    /// anything was read (or the end was reached).
    mutating func fill(from descriptor: Int32) -> Bool {
        guard !isAtEnd, end - start < framer.windowBytes else { return false }
        if storage.count - end < Self.chunk {
            let (from, count) = (start, end - start)
            unsafe storage.withUnsafeMutableBytes { raw in unsafe _ = memmove(raw.baseAddress!, raw.baseAddress! + from, count) }
            end -= start
            start = 0
        }
        while true {
            let room = storage.count - end
            let n = unsafe storage.withUnsafeMutableBytes { raw in unsafe read(descriptor, raw.baseAddress! + end, room) }
            if n > 0 {
                end += n
                return true
            }
            if n < 0, errno == EINTR { continue }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK { return false }
            // End of file, or an error: nothing more will come either way.
            isAtEnd = true
            return true
        }
    }

    /// Calls `body` with the next line and whether it is a piece of a longer line that goes on;
    /// false when no line is ready.
    mutating func nextLine(_ body: (ByteView, Bool) -> Void) -> Bool {
        while true {
            let step = ByteView.with(storage) { bytes in
                let window = bytes[start ..< end]
                let step = framer.next(window, flush: isAtEnd ? .everything : .none)
                if case .record(let message, let isPartial, _) = step { body(window[message], isPartial) }
                return step
            }
            switch step {
            case .record(_, _, let consumed):
                start += consumed
                return true
            case .skip(let consumed):
                start += consumed
            case .needMore:
                return false
            }
        }
    }
}
