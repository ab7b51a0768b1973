public import Logging

/// A logger that drops everything, for code under test that takes a `Logger`.
public let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
