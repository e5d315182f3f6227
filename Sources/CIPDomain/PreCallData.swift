/// SPEC 2.9: data an organization leaves for a caller's next call, applied when that call is bridged.
public struct PreCallData: Sendable, Hashable {
    public let organization: OrganizationRef
    public let networkID: Int64
    /// E.164, as normalized when written.
    public let callingPhoneNumber: String
    /// E.164, or nil to match any destination.
    public let destinationPhoneNumber: String?
    public let externalUniqueID: String?
    /// Each with source `PreCallAPI`; one per name, in name order.
    public let customData: [CustomDataWrite]
    public let createdAt: Timestamp
    public let expiresAt: Timestamp

    public init(
        organization: OrganizationRef, networkID: Int64, callingPhoneNumber: String, destinationPhoneNumber: String?,
        externalUniqueID: String?, customData: [CustomDataWrite], createdAt: Timestamp, expiresAt: Timestamp
    ) {
        self.organization = organization
        self.networkID = networkID
        self.callingPhoneNumber = callingPhoneNumber
        self.destinationPhoneNumber = destinationPhoneNumber
        self.externalUniqueID = externalUniqueID
        // A name given twice keeps its last value, as an update of a call does (`CallRecord.merge`).
        var byName: [String: CustomDataWrite] = [:]
        for write in customData { byName[write.name] = write }
        self.customData = byName.keys.sorted().map { byName[$0]! }
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    /// Whether this data is for `call` (just bridged, received at `now`): its organization's network
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

extension PreCallData {
    /// The custom data by name, as the API answers and the store keeps it (names are unique here).
    public var customDataByName: [String: CustomDataEntry] {
        Dictionary(uniqueKeysWithValues: customData.map { ($0.name, $0.entry) })
    }
}

/// Pre-call data as stored: its id increases with every write, so among several entries matching
/// one bridge the highest applies.
public struct PreCallEntry: Sendable, Hashable {
    public let id: Int64
    public let data: PreCallData

    public init(id: Int64, data: PreCallData) {
        self.id = id
        self.data = data
    }
}

/// The source of custom data applied from pre-call data.
public let preCallSource = "PreCallAPI"
