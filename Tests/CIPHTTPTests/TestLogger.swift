import Logging

/// Warnings and worse only: one info line per request would bury the test output.
let quietTestLogger: Logger = {
    var logger = Logger(label: "cip-test")
    logger.logLevel = .warning
    return logger
}()
