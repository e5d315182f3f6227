import CIPDomain
import CIPStore

/// One change as the streams send it: framed once, then shared by every stream that sends it.
final class StreamEvent: Sendable {
    let sequence: Int64
    let networkID: Int64
    let advertiserID: Int64?
    let previousAdvertiserID: Int64?
    let committedAt: Timestamp
    /// When this node read it from the change log: how long a stream has left it waiting counts from here.
    let readAt: ContinuousClock.Instant
    let frame: [UInt8]

    init(_ change: LoggedChange, readAt: ContinuousClock.Instant = .now) {
        sequence = change.sequence
        networkID = change.networkID
        advertiserID = change.advertiserID
        previousAdvertiserID = change.previousAdvertiserID
        committedAt = change.committedAt
        self.readAt = readAt
        frame = StreamFrames.change(change)
    }

    /// What a stream of `organization` makes of this change.
    func visibility(to organization: OrganizationRef) -> Visibility {
        switch organization.type {
        case .network:
            return networkID == organization.id ? .sent : .hidden
        case .advertiser:
            if previousAdvertiserID != nil
                && (advertiserID == organization.id || previousAdvertiserID == organization.id)
            {
                return .startsOver
            }
            return advertiserID == organization.id ? .sent : .hidden
        }
    }

    enum Visibility {
        case sent
        /// The change moved a call into or out of the advertiser: no change event can say that (the
        /// call appears, or is no longer the advertiser's), so the stream starts over from a snapshot.
        case startsOver
        case hidden
    }
}
