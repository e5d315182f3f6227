/// The rules of SPEC 2.2 and 2.4 as predicates, for stores that answer from memory.
extension CallQuery {
    /// True when `record` is a live call this query selects (on its page's side of the cursor).
    public func matches(_ record: CallRecord) -> Bool {
        guard record.isLive, scope.contains(record) else { return false }
        if let after = page.after, !after.isFollowed(by: record) { return false }
        if let transactionID, record.transactionID != transactionID { return false }
        if let externalUniqueID, record.externalUniqueID != externalUniqueID { return false }
        if let phonePair,
            record.callingPhoneNumber != phonePair.calling || record.destinationPhoneNumber != phonePair.destination
        {
            return false
        }
        return true
    }
}

extension CallSelector {
    /// True when `record` is the live call this selector names within `scope`.
    public func matches(_ record: CallRecord, in scope: CallScope) -> Bool {
        guard record.isLive, scope.contains(record) else { return false }
        if let transactionID, record.transactionID != transactionID { return false }
        if let externalUniqueID {
            guard record.networkID == scope.organization.networkID, record.externalUniqueID == externalUniqueID
            else { return false }
        }
        return true
    }
}

extension CallRecord {
    /// SPEC 2.2's order: most recently transferred first, ties by transaction id ascending.
    public static func listedBefore(_ first: CallRecord, _ second: CallRecord) -> Bool {
        if first.transferStart != second.transferStart { return first.transferStart > second.transferStart }
        return first.transactionID < second.transactionID
    }
}
