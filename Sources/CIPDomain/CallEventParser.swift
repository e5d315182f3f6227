/// Checks one raw telephony event against SPEC 4 and the catalog, giving a `CallEvent` or the errors.
public struct CallEventParser: Sendable {
    public let catalog: Catalog
    /// The source of custom data items that do not name their own.
    public static let defaultSource = "Telephony"

    public init(catalog: Catalog) {
        self.catalog = catalog
    }

    /// The network ids an event names, if any; events for known calls may leave it out.
    public static func networkID(of raw: JSONValue) -> Int64? {
        raw.objectValue?["network_id"]?.positiveID
    }

    public static func transactionID(of raw: JSONValue) -> String? {
        raw.objectValue?["transaction_id"]?.stringValue
    }

    /// Parses `raw`; `storedNetworkID` is the network of the call it names, when that call is known.
    /// `newTransactionID` makes an id for a bridged event that came without one.
    public func parse(
        _ raw: JSONValue, storedNetworkID: Int64?, newTransactionID: () -> String
    ) -> Result<CallEvent, ValidationErrors> {
        var errors = ValidationErrors()
        guard let members = raw.objectValue else {
            errors.add("event", "must be an object")
            return .failure(errors)
        }
        let kind = members["event"]?.stringValue.flatMap(CallEventKind.init(rawValue:))
        if members["event"] == nil {
            errors.add("event", "is required")
        } else if kind == nil {
            errors.add("event", "must be call_bridged, call_updated or call_ended")
        }

        var transactionID: String?
        switch members["transaction_id"] {
        case nil, .null?:
            if kind == .bridged {
                transactionID = newTransactionID()
            } else {
                errors.add("transaction_id", "is required")
            }
        case .string(let text)? where TransactionID.isValid(text):
            transactionID = text
        default:
            errors.add("transaction_id", "must be 1 to 32 characters of 0-9, A-Z, a-z and -")
        }

        let occurredAt = timestamp(members, "occurred_at", required: true, errors: &errors)
        let callStart = timestamp(members, "call_start_time_utc", required: false, errors: &errors)

        var network: Network?
        if let rawNetwork = members["network_id"] {
            if let id = rawNetwork.positiveID {
                network = catalog.networks[id]
                if network == nil { errors.add("network_id", "is not a known network") }
                if let storedNetworkID, network != nil, storedNetworkID != id {
                    errors.add("transaction_id", "is already used by a call of another network")
                }
            } else {
                errors.add("network_id", "must be a positive integer")
            }
        } else if let storedNetworkID {
            network = catalog.networks[storedNetworkID]
        } else {
            errors.add("network_id", "is required")
        }

        var advertiser: Advertiser?
        if let rawAdvertiser = members["advertiser_id"], rawAdvertiser != .null {
            if let id = rawAdvertiser.positiveID {
                advertiser = catalog.advertisers[id]
                if advertiser == nil || (network != nil && advertiser?.networkID != network?.id) {
                    errors.add("advertiser_id", "is not an advertiser of this network")
                    advertiser = nil
                }
            } else {
                errors.add("advertiser_id", "must be a positive integer")
            }
        }

        let country = network?.country ?? "US"
        var calling: String?
        var destination: String?
        if let rawCalling = members["calling_phone_number"], rawCalling != .null {
            if let text = rawCalling.scalarText?.trimmingSpaces(), !text.isEmpty, text.count <= 64 {
                if StoredText.isSingleLine(text) {
                    // Caller IDs that are not numbers ("anonymous", short codes) are kept as reported.
                    calling = PhoneNumber.normalize(text, defaultCountry: country) ?? text
                } else {
                    errors.add("calling_phone_number", StoredText.message)
                }
            } else {
                errors.add("calling_phone_number", "must be a caller ID of 1 to 64 characters")
            }
        } else if kind == .bridged {
            errors.add("calling_phone_number", "is required")
        }
        if let rawDestination = members["destination_phone_number"], rawDestination != .null {
            destination = rawDestination.scalarText.flatMap { PhoneNumber.normalize($0, defaultCountry: country) }
            if destination == nil { errors.add("destination_phone_number", "is not a valid phone number") }
        } else if kind == .bridged {
            errors.add("destination_phone_number", "is required")
        }

        var status: CallStatus?
        if let rawStatus = members["call_status"], rawStatus != .null {
            status = rawStatus.stringValue.flatMap(CallStatus.init(rawValue:))
            if status == nil { errors.add("call_status", "must be bridged, on_hold or transferring") }
        }

        var attributes: [String: JSONValue] = [:]
        for name in optionalCallAttributes {
            guard let value = members[name], value != .null else { continue }
            if name == "called_phone_number" {
                if let number = value.scalarText.flatMap({ PhoneNumber.normalize($0, defaultCountry: country) }) {
                    attributes[name] = .string(number)
                } else {
                    errors.add(name, "is not a valid phone number")
                }
                continue
            }
            switch value {
            case .string(let text) where text.count <= 255:
                if StoredText.isSingleLine(text) {
                    attributes[name] = value
                } else {
                    errors.add(name, StoredText.message)
                }
            case .number(let text) where text.count <= 255: attributes[name] = value
            case .integer, .bool: attributes[name] = value
            case .string, .number: errors.add(name, "must be at most 255 characters")
            default: errors.add(name, "must be a string or a number")
            }
        }
        if let advertiser {
            if attributes["advertiser_name"] == nil { attributes["advertiser_name"] = .string(advertiser.name) }
            if attributes["advertiser_id_from_network"] == nil, let fromNetwork = advertiser.idFromNetwork {
                attributes["advertiser_id_from_network"] = .string(fromNetwork)
            }
        }

        var customData: [CustomDataWrite] = []
        if let rawCustomData = members["custom_data"], rawCustomData != .null {
            let items = CustomDataRequest.parseShape(rawCustomData, allowSource: true, errors: &errors)
            if let network {
                customData = CustomDataRequest.resolve(
                    items, fields: catalog.fields(ofNetwork: network.id), defaultSource: Self.defaultSource,
                    errors: &errors)
            }
        }

        guard errors.isEmpty, let kind, let transactionID, let occurredAt, let network else {
            return .failure(errors)
        }
        return .success(
            CallEvent(
                kind: kind, transactionID: transactionID, networkID: network.id, advertiserID: advertiser?.id,
                occurredAt: occurredAt, callStart: callStart, callingPhoneNumber: calling,
                destinationPhoneNumber: destination, status: status, attributes: attributes, customData: customData))
    }

    private func timestamp(
        _ members: [String: JSONValue], _ key: String, required: Bool, errors: inout ValidationErrors
    ) -> Timestamp? {
        guard let value = members[key], value != .null else {
            if required { errors.add(key, "is required") }
            return nil
        }
        guard let text = value.stringValue, let time = Timestamp(iso8601: text) else {
            errors.add(key, "must be an ISO 8601 time such as 2022-12-10T13:49:00.000Z")
            return nil
        }
        return time
    }
}
