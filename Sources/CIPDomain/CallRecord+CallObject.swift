extension CallRecord {
    /// A live call read back from its call object (SPEC 2.3) and the bookkeeping the object does not
    /// show: the inverse of `CallObjectJSON(record)` for a live call. Nil when `object` is not one.
    /// (A memory index keeps the object, not the record; a write rebuilds the record from it.)
    public init?(
        liveCallObject object: CallObjectJSON, networkID: Int64, lastEventAt: Timestamp, lastReceivedAt: Timestamp
    ) {
        // One pass over the members, no dictionary of them: every SQLite PUT runs this.
        var transactionID: String?
        var status: CallStatus?
        var calling: String?
        var destination: String?
        var callStart: Timestamp?
        var transferStart: Timestamp?
        var version: Int64?
        var customFields: [String: JSONValue]?
        var advertiserID: Int64?
        var externalUniqueID: String??
        var attributes: [String: JSONValue] = [:]
        var wellFormed = true
        let isObject = JSONParser.forEachMember(of: object.bytes) { name, value in
            switch name {
            case "transaction_id": transactionID = value.stringValue
            case "call_status": status = value.stringValue.flatMap(CallStatus.init(rawValue:))
            case "calling_phone_number": calling = value.stringValue
            case "destination_phone_number": destination = value.stringValue
            case "call_start_time_utc": callStart = value.stringValue.flatMap(Timestamp.init(iso8601:))
            case "transfer_start_time_utc": transferStart = value.stringValue.flatMap(Timestamp.init(iso8601:))
            case "version":
                if case .integer(let number) = value { version = number }
            case "custom_data":
                if case .object(let members) = value { customFields = members }
            case "advertiser_id":
                if case .integer(let id) = value { advertiserID = id } else { wellFormed = false }
            case "external_unique_id":
                switch value {
                case .string(let text): externalUniqueID = .some(text)
                case .null: externalUniqueID = .some(nil)
                default: wellFormed = false
                }
            default:
                if optionalCallAttributeNames.contains(name) { attributes[name] = value }
            }
        }
        guard isObject, wellFormed, let transactionID, let status, let calling, let destination, let callStart,
            let transferStart, let version, let customFields, let externalUniqueID
        else { return nil }
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
