/// SPEC 2.9: data an organization leaves for a caller's next call, applied when that call is bridged.
public struct PreCallEntry: Sendable, Hashable {
    /// Increasing with every write: among several entries matching one bridge, the highest applies.
    public let id: Int64
    public let organization: OrganizationRef
    public let networkID: Int64
    /// E.164, as normalized when written.
    public let callingPhoneNumber: String
    /// E.164, or nil to match any destination.
    public let destinationPhoneNumber: String?
    public let externalUniqueID: String?
    /// Each with source `PreCallAPI`.
    public let customData: [CustomDataWrite]
    public let createdAt: Timestamp
    public let expiresAt: Timestamp

    public init(
        id: Int64, organization: OrganizationRef, networkID: Int64, callingPhoneNumber: String,
        destinationPhoneNumber: String?, externalUniqueID: String?, customData: [CustomDataWrite],
        createdAt: Timestamp, expiresAt: Timestamp
    ) {
        self.id = id
        self.organization = organization
        self.networkID = networkID
        self.callingPhoneNumber = callingPhoneNumber
        self.destinationPhoneNumber = destinationPhoneNumber
        self.externalUniqueID = externalUniqueID
        self.customData = customData
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    /// Whether this entry is for `call` (just bridged, received at `now`): its organization's network
    /// (and advertiser, for an advertiser's entry), its caller, its destination if the entry names one.
    public func matches(_ call: CallRecord, at now: Timestamp) -> Bool {
        guard expiresAt > now, call.networkID == networkID, call.callingPhoneNumber == callingPhoneNumber else {
            return false
        }
        if organization.type == .advertiser, call.advertiserID != organization.id { return false }
        if let destinationPhoneNumber, call.destinationPhoneNumber != destinationPhoneNumber { return false }
        return true
    }
}

/// The source of custom data applied from pre-call data.
public let preCallSource = "PreCallAPI"
