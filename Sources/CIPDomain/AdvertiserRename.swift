/// An advertiser's name or id from its network changed (SPEC 6's `advertiser update`).
///
/// The rule for live calls: a call of that advertiser whose `advertiser_name` is the old name takes
/// the new one, and likewise `advertiser_id_from_network`. A value the telephony layer sent that
/// differs from the record's is the sender's and stays; one equal to the old record's is taken to
/// come from the record (they cannot be told apart, and they meant the same advertiser).
public struct AdvertiserRename: Sendable, Hashable {
    public let before: Advertiser
    public let after: Advertiser

    public init(before: Advertiser, after: Advertiser) {
        self.before = before
        self.after = after
    }

    /// The renames between two catalogs: every advertiser whose name or id from the network differs.
    public static func between(_ old: Catalog, _ new: Catalog) -> [AdvertiserRename] {
        new.advertisers.values.compactMap { after in
            guard let before = old.advertisers[after.id],
                before.name != after.name || before.idFromNetwork != after.idFromNetwork
            else { return nil }
            return AdvertiserRename(before: before, after: after)
        }.sorted { $0.after.id < $1.after.id }
    }

    /// `call` as the rename leaves it; nil when the rename does not touch it.
    public func applied(to call: CallRecord) -> CallRecord? {
        guard call.isLive, call.advertiserID == after.id else { return nil }
        var updated = call
        if before.name != after.name, call.attributes["advertiser_name"] == .string(before.name) {
            updated.attributes["advertiser_name"] = .string(after.name)
        }
        if before.idFromNetwork != after.idFromNetwork, let old = before.idFromNetwork, let new = after.idFromNetwork,
            call.attributes["advertiser_id_from_network"] == .string(old)
        {
            updated.attributes["advertiser_id_from_network"] = .string(new)
        }
        return updated == call ? nil : updated
    }
}
