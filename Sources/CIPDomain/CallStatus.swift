/// Where a visible call stands (SPEC 2.3).
public enum CallStatus: String, Sendable, Hashable, CaseIterable {
    case bridged
    case onHold = "on_hold"
    case transferring
}

/// Why a completed call ended (SPEC 5).
public enum EndReason: String, Sendable, Hashable {
    case ended
    case expired
}
