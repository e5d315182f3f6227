/// Writes the call object of SPEC 2.3.
extension JSONWriter {
    /// The call object; a completed call (SPEC 5) also gets `call_end_time_utc` and `end_reason`.
    public mutating func writeCall(_ call: CallRecord, asCompleted: Bool = false) {
        beginObject()
        key("transaction_id")
        string(call.transactionID)
        key("call_status")
        string(call.status.rawValue)
        key("external_unique_id")
        if let externalUniqueID = call.externalUniqueID { string(externalUniqueID) } else { null() }
        key("calling_phone_number")
        string(call.callingPhoneNumber)
        key("destination_phone_number")
        string(call.destinationPhoneNumber)
        key("call_start_time_utc")
        timestamp(call.callStart)
        key("transfer_start_time_utc")
        timestamp(call.transferStart)
        for name in optionalCallAttributes {
            if let value = call.attributes[name] {
                key(name)
                self.value(value)
            }
            if name == "called_phone_number", let advertiserID = call.advertiserID {
                key("advertiser_id")
                integer(advertiserID)
            }
        }
        key("custom_data")
        writeCustomData(call.customData)
        key("version")
        integer(call.version)
        if asCompleted, let ending = call.ended {
            key("call_end_time_utc")
            timestamp(ending.at)
            key("end_reason")
            string(ending.reason.rawValue)
        }
        endObject()
    }

    /// `{"name": {"value": ..., "source": "..."}}`, names in order: the API's and the store's form.
    public mutating func writeCustomData(_ customData: [String: CustomDataEntry]) {
        beginObject()
        for name in customData.keys.sorted() {
            let entry = customData[name]!
            key(name)
            beginObject()
            key("value")
            switch entry.value {
            case .bool(let flag): bool(flag)
            case .string(let text): string(text)
            }
            key("source")
            string(entry.source)
            endObject()
        }
        endObject()
    }
}

/// A call object of SPEC 2.3 already written as JSON, so that serving a live call copies bytes.
public struct CallObjectJSON: Sendable, Hashable {
    public let bytes: [UInt8]

    public init(_ call: CallRecord) {
        var writer = JSONWriter(capacity: 384)
        writer.writeCall(call)
        bytes = writer.bytes
    }

    /// A call object written earlier (the change log keeps them as JSON).
    public init(json bytes: [UInt8]) {
        self.bytes = bytes
    }
}

extension JSONWriter {
    /// Writes a call object written earlier, as the next value.
    public mutating func callObject(_ object: CallObjectJSON) {
        raw(object.bytes)
    }
}

/// A PUT's answer (SPEC 2.4, 2.7): the call object after the update, and its ETag.
public struct UpdatedCall: Sendable, Hashable {
    public let etag: String
    public let object: CallObjectJSON

    public init(etag: String, object: CallObjectJSON) {
        self.etag = etag
        self.object = object
    }

    public init(_ call: CallRecord) {
        self.init(etag: call.etag, object: CallObjectJSON(call))
    }
}
