import CIPDomain

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
        if asCompleted, let ending = call.ended {
            key("call_end_time_utc")
            timestamp(ending.at)
            key("end_reason")
            string(ending.reason.rawValue)
        }
        endObject()
    }
}
