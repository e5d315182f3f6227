extension CallRecord {
    /// A live call read back from its call object (SPEC 2.3) and the bookkeeping the object does not
    /// show: the inverse of `CallObjectJSON(record)` for a live call. Nil when `object` is not one.
    /// (A memory index keeps the object, not the record; a write rebuilds the record from it.)
    public init?(
        liveCallObject object: CallObjectJSON, networkID: Int64, lastEventAt: Timestamp, lastReceivedAt: Timestamp
    ) {
        // One pass over the members, keys compared in place and nothing built but the record's own
        // values: every SQLite PUT runs this, and through `JSONValue`'s dictionaries it cost ~1.6 times
        // as much.
        var transactionID: String?
        var status: CallStatus?
        var calling: String?
        var destination: String?
        var callStart: Timestamp?
        var transferStart: Timestamp?
        var version: Int64?
        var customData: [String: CustomDataEntry]?
        var advertiserID: Int64?
        var externalUniqueID: String??
        var attributes: [String: JSONValue] = [:]
        let isCall = JSONParser.readObject(object.bytes) { key, parser in
            if parser.key(key, is: "transaction_id") {
                transactionID = parser.stringValue()
                return transactionID != nil
            } else if parser.key(key, is: "call_status") {
                status = parser.stringValue().flatMap(CallStatus.init(rawValue:))
                return status != nil
            } else if parser.key(key, is: "external_unique_id") {
                switch parser.value() {
                case .string(let text): externalUniqueID = .some(text)
                case .null: externalUniqueID = .some(nil)
                default: return false
                }
                return true
            } else if parser.key(key, is: "calling_phone_number") {
                calling = parser.stringValue()
                return calling != nil
            } else if parser.key(key, is: "destination_phone_number") {
                destination = parser.stringValue()
                return destination != nil
            } else if parser.key(key, is: "call_start_time_utc") {
                callStart = parser.stringValue().flatMap(Timestamp.init(iso8601:))
                return callStart != nil
            } else if parser.key(key, is: "transfer_start_time_utc") {
                transferStart = parser.stringValue().flatMap(Timestamp.init(iso8601:))
                return transferStart != nil
            } else if parser.key(key, is: "advertiser_id") {
                guard case .integer(let id) = parser.value() else { return false }
                advertiserID = id
                return true
            } else if parser.key(key, is: "custom_data") {
                customData = Self.customData(&parser)
                return customData != nil
            } else if parser.key(key, is: "version") {
                guard case .integer(let number) = parser.value() else { return false }
                version = number
                return true
            } else if let attribute = attributeKeys.first(where: { parser.key(key, isUTF8: $0.utf8) }) {
                // The list's own string as the key: no string made for it.
                guard let value = parser.value() else { return false }
                attributes[attribute.name] = value
                return true
            } else {
                return parser.value() != nil
            }
        }
        guard isCall, let transactionID, let status, let calling, let destination, let callStart, let transferStart,
            let version, let customData, let externalUniqueID
        else { return nil }
        self.init(
            transactionID: transactionID, networkID: networkID, advertiserID: advertiserID, status: status,
            externalUniqueID: externalUniqueID, callingPhoneNumber: calling, destinationPhoneNumber: destination,
            callStart: callStart, transferStart: transferStart, attributes: attributes, customData: customData,
            lastEventAt: lastEventAt, lastReceivedAt: lastReceivedAt, ended: nil, wasBridged: true, version: version)
    }

    /// `{"name": {"value": ..., "source": "..."}}` at the parser's position, as written by
    /// `JSONWriter.writeCustomData`; nil when it is not that.
    private static func customData(_ parser: inout JSONParser) -> [String: CustomDataEntry]? {
        var entries: [String: CustomDataEntry] = [:]
        let read = parser.members { name, parser in
            var value: CustomDataValue?
            var source: String?
            guard
                parser.members({ key, parser in
                    if parser.key(key, is: "value") {
                        switch parser.value() {
                        case .bool(let flag)?: value = .bool(flag)
                        case .string(let text)?: value = .string(text)
                        default: return false
                        }
                        return true
                    } else if parser.key(key, is: "source") {
                        source = parser.stringValue()
                        return source != nil
                    }
                    return parser.value() != nil
                }), let value, let source
            else { return false }
            entries[parser.text(of: name)] = CustomDataEntry(value: value, source: source)
            return true
        }
        return read ? entries : nil
    }
}

/// `optionalCallAttributes` with their bytes, for matching a call object's keys in place.
private let attributeKeys: [(name: String, utf8: [UInt8])] = optionalCallAttributes.map { ($0, Array($0.utf8)) }
