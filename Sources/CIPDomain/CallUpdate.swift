/// Which live call an update names: by transaction id, external id, or both (both must match).
public struct CallSelector: Sendable, Hashable {
    public let transactionID: String?
    public let externalUniqueID: String?

    public init(transactionID: String?, externalUniqueID: String?) {
        self.transactionID = transactionID
        self.externalUniqueID = externalUniqueID
    }
}

/// A checked update of SPEC 2.4: a new external id and/or custom data values.
public struct CallUpdate: Sendable, Hashable {
    public let externalUniqueID: String?
    public let customData: [CustomDataWrite]
    /// SPEC 2.7's `If-Match`: the update applies only to a call whose current ETag satisfies it.
    public let precondition: IfMatch?

    public init(externalUniqueID: String?, customData: [CustomDataWrite], precondition: IfMatch? = nil) {
        self.externalUniqueID = externalUniqueID
        self.customData = customData
        self.precondition = precondition
    }

    /// The live call after the update (one version more if it changed anything) and the parts of the
    /// call object it changed, as `CallChange.between` names and orders them; the store enforces the
    /// external id's uniqueness. An update can change only the external id and the fields it names,
    /// so only those are compared: the whole comparison hashes every attribute and field name, and
    /// every PUT ran it twice. A call that is not live is left as it is.
    public func applied(to record: CallRecord) -> (record: CallRecord, changed: [String]) {
        guard record.isLive, record.wasBridged else { return (record, []) }
        var updated = record
        var changed: [String] = []
        if let externalUniqueID, externalUniqueID != record.externalUniqueID {
            updated.externalUniqueID = externalUniqueID
            changed.append("external_unique_id")
        }
        updated.merge(customData)
        var names = customData.map(\.name)
        if names.count > 1 { names = Set(names).sorted() }
        for name in names where updated.customData[name] != record.customData[name] {
            changed.append("custom_data.\(name)")
        }
        if !changed.isEmpty { updated.version = record.version + 1 }
        return (updated, changed)
    }
}

/// Who is looking: the calls an organization may see are its network's, or its advertiser's own.
public struct CallScope: Sendable, Hashable {
    public let organization: ResolvedOrganization

    public init(_ organization: ResolvedOrganization) {
        self.organization = organization
    }

    public func contains(_ record: CallRecord) -> Bool {
        contains(networkID: record.networkID, advertiserID: record.advertiserID)
    }

    /// Whether a call of this network and advertiser is in scope (for holders of a call's keys only).
    public func contains(networkID: Int64, advertiserID: Int64?) -> Bool {
        switch organization.ref.type {
        case .network: return networkID == organization.ref.id
        case .advertiser: return advertiserID == organization.ref.id
        }
    }
}

/// The filters of SPEC 2.2, already checked and normalized; they combine with AND.
public struct CallQuery: Sendable, Hashable {
    public let scope: CallScope
    public let transactionID: String?
    public let externalUniqueID: String?
    /// Both E.164 numbers, or nil.
    public let phonePair: PhonePair?
    /// SPEC 2.8's page; `.everything` without `limit`.
    public let page: CallPage

    public init(
        scope: CallScope, transactionID: String?, externalUniqueID: String?, phonePair: PhonePair?,
        page: CallPage = .everything
    ) {
        self.scope = scope
        self.transactionID = transactionID
        self.externalUniqueID = externalUniqueID
        self.phonePair = phonePair
        self.page = page
    }
}

/// A caller and destination number pair, both as stored.
public struct PhonePair: Sendable, Hashable {
    public let calling: String
    public let destination: String

    public init(calling: String, destination: String) {
        self.calling = calling
        self.destination = destination
    }
}
