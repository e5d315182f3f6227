import CIPDomain
import CIPStore

/// What `serve --demo` creates on an empty database: a network, advertisers, the simulator's
/// custom data fields, and one token of each kind a newcomer wants to try.
public struct DemoSeed: Sendable, Equatable {
    public static let networkName = "Demo Network"
    public static let advertiserNames = ["Acme Plumbing", "Bright Dental", "City Movers"]

    public let network: Network
    public let advertisers: [Advertiser]
    /// Token texts: shown once, at seeding.
    public let networkToken: String
    public let advertiserToken: String
    public let readOnlyToken: String
    public let telephonyToken: String

    /// Seeds a database that has no network yet; returns nil, changing nothing, when it has one.
    public static func seedIfEmpty(_ store: any AdminStore) async throws -> DemoSeed? {
        guard try await store.loadCatalog().networks.isEmpty else { return nil }
        let network = try await store.createNetwork(name: networkName, country: "US")
        var advertisers: [Advertiser] = []
        for (index, name) in advertiserNames.enumerated() {
            advertisers.append(
                try await store.createAdvertiser(networkID: network.id, name: name, idFromNetwork: "ADV-\(index + 1)"))
        }
        for field in SimulatedFields.all {
            _ = try await store.createField(
                networkID: network.id, name: field.name, dataType: field.type, allowedValues: field.allowedValues)
        }
        for (name, type) in [("Call Disposition", CustomDataType.shortText), ("Notes", .longText)] {
            _ = try await store.createField(networkID: network.id, name: name, dataType: type, allowedValues: [])
        }
        let networkRef = OrganizationRef(type: .network, id: network.id)
        let advertiserRef = OrganizationRef(type: .advertiser, id: advertisers[0].id)
        return DemoSeed(
            network: network, advertisers: advertisers,
            networkToken: try await token(store, .organization, networkRef, .write, "demo: network"),
            advertiserToken: try await token(store, .organization, advertiserRef, .write, "demo: advertiser"),
            readOnlyToken: try await token(store, .organization, networkRef, .read, "demo: read-only"),
            telephonyToken: try await token(store, .telephony, nil, .write, "demo: telephony"))
    }

    /// The demo network of a database seeded earlier, if there is one.
    public static func existingNetwork(_ store: any AdminStore) async throws -> (Network, [Advertiser])? {
        let catalog = try await store.loadCatalog()
        guard let network = catalog.networks.values.first(where: { $0.name == networkName }) else { return nil }
        let advertisers = catalog.advertisers.values.filter { $0.networkID == network.id }.sorted { $0.id < $1.id }
        return (network, advertisers)
    }

    /// A new token of `kind`; its text is returned once and stored only as a hash.
    public static func token(
        _ store: any AdminStore, _ kind: TokenKind, _ owner: OrganizationRef?, _ scope: TokenScope,
        _ description: String
    ) async throws -> String {
        let text = TokenGenerator.newToken()
        _ = try await store.createToken(
            hash: TokenHash(of: text), kind: kind, organization: owner, scope: scope, description: description,
            createdAt: .now())
        return text
    }

    /// The welcome text: tokens and ready-to-paste `curl` commands for every public endpoint.
    public func welcome(baseURL: String) -> String {
        let api = "\(baseURL)/api/2022-08-01"
        let net = "id=\(network.id)&organization_type=network"
        let adv = "id=\(advertisers[0].id)&organization_type=advertiser"
        return """

            cip demo: a network with \(advertisers.count) advertisers and simulated live calls.

              Watch them live: open the wallboard at \(baseURL)/
              and paste this token, organization type network, id \(network.id):
                \(readOnlyToken)

              network token (write)      \(networkToken)
              advertiser token (write)   \(advertiserToken)   (\(advertisers[0].name))
              read-only network token    \(readOnlyToken)
              telephony token            \(telephonyToken)

            These tokens are shown only now. Try:

              # every live call of the network
              curl -s -H 'Authorization: \(networkToken)' '\(api)/calls_in_progress/current_calls.json?\(net)'

              # every change to the network's calls as it happens: a snapshot, then one event per change
              curl -N -H 'Authorization: \(readOnlyToken)' '\(api)/calls_in_progress/stream?\(net)'
              CIP_TOKEN=\(readOnlyToken) \(CommandLine.arguments.first ?? "cip") watch --url \(baseURL) --organization-type network --id \(network.id)

              # one advertiser's live calls
              curl -s -H 'Authorization: \(advertiserToken)' '\(api)/calls_in_progress/current_calls.json?\(adv)'

              # one call by its transaction id (take one from the list above)
              curl -s -H 'Authorization: \(readOnlyToken)' '\(api)/calls_in_progress/current_calls.json?\(net)&transaction_id=TRANSACTION_ID'

              # by caller and destination number, in any common format
              curl -s -H 'Authorization: \(networkToken)' '\(api)/calls_in_progress/current_calls.json?\(net)&calling_phone_number=CALLER&destination_phone_number=DESTINATION'

              # set an external id and custom data on a call, then find it by the external id
              curl -s -X PUT -H 'Authorization: \(networkToken)' -H 'Content-Type: application/json' \\
                '\(api)/calls_in_progress.json?\(net)&transaction_id=TRANSACTION_ID' \\
                -d '{"call_in_progress":{"external_unique_id":"crm-0001","custom_data":[{"name":"Call Disposition","value":"SALE"}]}}'
              curl -s -H 'Authorization: \(networkToken)' '\(api)/calls_in_progress/current_calls.json?\(net)&external_unique_id=crm-0001'

              # report a call as the telephony layer does
              curl -s -H 'Authorization: \(telephonyToken)' -H 'Content-Type: application/json' '\(api)/telephony/call_events.json' \\
                -d '{"event":"call_bridged","transaction_id":"my-first-call","network_id":\(network.id),"advertiser_id":\(advertisers[0].id),"occurred_at":"\(Timestamp.now())","calling_phone_number":"530-999-9999","destination_phone_number":"855-559-5599"}'

              curl -s \(baseURL)/health; curl -s \(baseURL)/ready; curl -s \(baseURL)/metrics

            """
    }
}
