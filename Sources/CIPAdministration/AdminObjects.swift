import CIPDomain

/// The objects of SPEC 6 as JSON members, written the same way by `cip admin` (one object per line)
/// and the admin API (inside `{"network": {...}}` and the like).
extension JSONWriter {
    public mutating func writeFields(of network: Network) {
        key("id")
        integer(network.id)
        key("name")
        string(network.name)
        key("country")
        string(network.country)
    }

    public mutating func writeFields(of advertiser: Advertiser) {
        key("id")
        integer(advertiser.id)
        key("network_id")
        integer(advertiser.networkID)
        key("name")
        string(advertiser.name)
        key("id_from_network")
        if let fromNetwork = advertiser.idFromNetwork { string(fromNetwork) } else { null() }
    }

    public mutating func writeFields(of field: CustomDataField) {
        key("network_id")
        integer(field.networkID)
        key("name")
        string(field.name)
        key("data_type")
        string(field.dataType.rawValue)
        key("allowed_values")
        value(.array(field.allowedValues.map(JSONValue.string)))
    }

    /// A token as `token list` shows it: everything but its text.
    public mutating func writeFields(of token: TokenRecord) {
        key("id")
        integer(token.id)
        key("kind")
        string(token.kind.rawValue)
        key("organization_type")
        if let organization = token.organization { string(organization.type.rawValue) } else { null() }
        key("organization_id")
        if let organization = token.organization { integer(organization.id) } else { null() }
        key("scope")
        string(token.scope.rawValue)
        key("description")
        if let description = token.description { string(description) } else { null() }
        key("created_at")
        string(token.createdAt.description)
        key("revoked")
        bool(token.revoked)
    }

    /// A webhook as `webhook list` shows it (SPEC 9): everything but its secret; `pending` when counted.
    public mutating func writeFields(of webhook: Webhook, pending: Int? = nil) {
        key("id")
        integer(webhook.id)
        key("organization_type")
        string(webhook.organization.type.rawValue)
        key("organization_id")
        integer(webhook.organization.id)
        key("url")
        string(webhook.url)
        key("events")
        beginArray()
        for event in webhook.events { string(event.rawValue) }
        endArray()
        key("state")
        string(webhook.state.rawValue)
        key("created_at")
        string(webhook.createdAt.description)
        key("last_delivery_at")
        if let delivered = webhook.lastDeliveryAt { string(delivered.description) } else { null() }
        key("last_error")
        if let error = webhook.lastError { string(error) } else { null() }
        if let pending {
            key("pending")
            integer(Int64(pending))
        }
        key("skipped")
        integer(webhook.skipped)
        key("delivered_through")
        integer(webhook.deliveredThrough)
    }

    /// `{"<name>": {...}}`: one object under its name, as the admin API answers.
    public mutating func writeNamed(_ name: String, _ members: (inout JSONWriter) -> Void) {
        beginObject()
        key(name)
        beginObject()
        members(&self)
        endObject()
        endObject()
    }

    /// `{"<name>": [{...}, ...]}`: a list under its name.
    public mutating func writeList<Item>(_ name: String, _ items: [Item], _ members: (inout JSONWriter, Item) -> Void) {
        beginObject()
        key(name)
        beginArray()
        for item in items {
            beginObject()
            members(&self, item)
            endObject()
        }
        endArray()
        endObject()
    }
}
