extension CallRecord {
    /// A live call read back from its call object (SPEC 2.3) and the bookkeeping the object does not
    /// show: the inverse of `CallObjectJSON(record)` for a live call. Nil when `object` is not one.
    /// (A memory index keeps the object, not the record; a write rebuilds the record from it.)
    public init?(
        liveCallObject object: CallObjectJSON, networkID: Int64, lastEventAt: Timestamp, lastReceivedAt: Timestamp
    ) {
        guard case .object(let fields)? = JSONParser.parse(object.bytes),
            let transactionID = fields["transaction_id"]?.stringValue,
            let status = fields["call_status"]?.stringValue.flatMap(CallStatus.init(rawValue:)),
            let calling = fields["calling_phone_number"]?.stringValue,
            let destination = fields["destination_phone_number"]?.stringValue,
            let callStart = fields["call_start_time_utc"]?.stringValue.flatMap(Timestamp.init(iso8601:)),
            let transferStart = fields["transfer_start_time_utc"]?.stringValue.flatMap(Timestamp.init(iso8601:)),
            case .integer(let version)? = fields["version"],
            case .object(let customFields)? = fields["custom_data"]
        else { return nil }
        var advertiserID: Int64?
        if let value = fields["advertiser_id"] {
            guard case .integer(let id) = value else { return nil }
            advertiserID = id
        }
        var externalUniqueID: String?
        switch fields["external_unique_id"] {
        case .string(let text)?: externalUniqueID = text
        case .null?: externalUniqueID = nil
        default: return nil
        }
        var attributes: [String: JSONValue] = [:]
        for name in optionalCallAttributes {
            if let value = fields[name] { attributes[name] = value }
        }
        var customData: [String: CustomDataEntry] = [:]
        for (name, entry) in customFields {
            guard case .object(let parts) = entry, let source = parts["source"]?.stringValue else { return nil }
            switch parts["value"] {
            case .bool(let flag)?: customData[name] = CustomDataEntry(value: .bool(flag), source: source)
            case .string(let text)?: customData[name] = CustomDataEntry(value: .string(text), source: source)
            default: return nil
            }
        }
        self.init(
            transactionID: transactionID, networkID: networkID, advertiserID: advertiserID, status: status,
            externalUniqueID: externalUniqueID, callingPhoneNumber: calling, destinationPhoneNumber: destination,
            callStart: callStart, transferStart: transferStart, attributes: attributes, customData: customData,
            lastEventAt: lastEventAt, lastReceivedAt: lastReceivedAt, ended: nil, wasBridged: true, version: version)
    }
}
