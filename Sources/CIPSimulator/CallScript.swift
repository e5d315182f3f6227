import CIPDomain
import Foundation

/// One event the simulator will send, rendered as the feed's JSON.
struct SimulatedEvent {
    enum Role {
        case start
        case change
        case end
    }

    let role: Role
    let json: String
}

/// The advertisers' fixed telephony: destinations, campaigns and promo numbers.
struct AdvertiserProfile {
    let id: Int64?
    let destinations: [String]
    let campaigns: [(id: String, name: String, promoNumber: String, promoID: String)]

    static func make(for id: Int64?, sampling: inout Sampling) -> AdvertiserProfile {
        let label = id.map(String.init) ?? "0"
        let destinations = (0..<2).map { _ in NANP.number(&sampling) }
        let media = ["Search", "Display", "Radio", "TV", "Direct Mail"]
        let campaigns = (1...2).map { index in
            (
                id: "CMP-\(label)-\(index)", name: "\(sampling.pick(media)) campaign \(index)",
                promoNumber: NANP.tollFree(&sampling), promoID: "PN-\(label)-\(index)"
            )
        }
        return AdvertiserProfile(id: id, destinations: destinations, campaigns: campaigns)
    }
}

/// Realistic North American numbers, in the formats telephony systems report them.
enum NANP {
    static let areaCodes = [
        "212", "213", "305", "312", "415", "512", "530", "602", "617", "702", "713", "773", "808", "917", "971",
    ]
    static let tollFreeCodes = ["800", "833", "844", "855", "866", "877", "888"]

    static func number(_ sampling: inout Sampling) -> String {
        let digits = sampling.pick(areaCodes) + sampling.digits(3, firstFrom: 2) + sampling.digits(4)
        let area = digits.prefix(3)
        let exchange = digits.dropFirst(3).prefix(3)
        let line = digits.suffix(4)
        switch sampling.uniform() {
        case ..<0.4: return "+1\(digits)"
        case ..<0.6: return "\(area)-\(exchange)-\(line)"
        case ..<0.8: return "(\(area)) \(exchange)-\(line)"
        default: return "1\(digits)"
        }
    }

    static func tollFree(_ sampling: inout Sampling) -> String {
        sampling.pick(tollFreeCodes) + "-" + sampling.digits(3, firstFrom: 2) + "-" + sampling.digits(4)
    }
}

/// Writes the events of one call: bridged, an IVR answer, sometimes a hold, and the end.
struct CallScript {
    static let cities: [(city: String, region: String, zip: String)] = [
        ("Davis", "CA", "95616"), ("Austin", "TX", "78701"), ("Chicago", "IL", "60601"), ("Boston", "MA", "02108"),
        ("Phoenix", "AZ", "85004"), ("Seattle", "WA", "98101"), ("Miami", "FL", "33101"),
    ]
    static let sources = ["google.com", "bing.com", "facebook.com", "newsletter", "direct"]
    static let ivrChoices = ["sales", "support", "billing"]
    static let virtualLines = ["Main line", "After hours", "Spanish line"]

    let networkID: Int64
    let sendsCustomData: Bool

    /// The call's events with the simulation time (seconds) each is due.
    func events(
        startingAt start: Double, lasting length: Double, profile: AdvertiserProfile, sampling: inout Sampling
    ) -> [(due: Double, event: SimulatedEvent)] {
        let transactionID = TransactionID.generate(at: Timestamp(milliseconds: Int64(start * 1000)))
        let campaign = sampling.pick(profile.campaigns)
        let place = sampling.pick(Self.cities)
        var bridged = header("call_bridged", transactionID, at: start)
        if let id = profile.id {
            bridged.key("advertiser_id")
            bridged.integer(id)
        }
        let fields: [(String, String)] = [
            ("call_start_time_utc", time(start - 5 - sampling.uniform() * 30)),
            ("calling_phone_number", NANP.number(&sampling)),
            ("destination_phone_number", sampling.pick(profile.destinations)),
            ("called_phone_number", campaign.promoNumber),
            ("advertiser_campaign_id", campaign.id), ("advertiser_campaign_name", campaign.name),
            ("promo_number_id", campaign.promoID), ("media_type", "Phone"), ("phone_type", "Mobile"),
            ("city", place.city), ("region", place.region), ("zip_code", place.zip),
        ]
        for (key, value) in fields {
            bridged.key(key)
            bridged.string(value)
        }
        var attribution: [(String, String, String)] = []
        if sampling.chance(0.7) {
            attribution.append(("utm_source", sampling.pick(Self.sources), "DynamicAttribution"))
            attribution.append(("utm_campaign", campaign.name, "DynamicAttribution"))
        }
        if sampling.chance(0.5) { attribution.append(("line_label", sampling.pick(Self.virtualLines), "VirtualLine")) }
        customData(&bridged, attribution)
        var script: [(Double, SimulatedEvent)] = [(start, SimulatedEvent(role: .start, json: finish(bridged)))]

        let ivrAt = start + min(5, length / 3)
        var ivr = header("call_updated", transactionID, at: ivrAt)
        var answers = [("ivr_selection", sampling.pick(Self.ivrChoices), "Ivr")]
        if sampling.chance(0.5) { answers.append(("Qualified", sampling.chance(0.6) ? "true" : "false", "Ivr")) }
        customData(&ivr, answers)
        script.append((ivrAt, SimulatedEvent(role: .change, json: finish(ivr))))

        if sampling.chance(0.15) {
            let holdAt = start + length * (0.3 + 0.3 * sampling.uniform())
            let resumeAt = holdAt + min(30, (start + length - holdAt) / 2)
            for (at, status) in [(holdAt, "on_hold"), (resumeAt, "bridged")] {
                var change = header("call_updated", transactionID, at: at)
                change.key("call_status")
                change.string(status)
                script.append((at, SimulatedEvent(role: .change, json: finish(change))))
            }
        }
        let end = header("call_ended", transactionID, at: start + length)
        script.append((start + length, SimulatedEvent(role: .end, json: finish(end))))
        return script
    }

    private func header(_ kind: String, _ transactionID: String, at time: Double) -> JSONWriter {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("event")
        writer.string(kind)
        writer.key("transaction_id")
        writer.string(transactionID)
        writer.key("network_id")
        writer.integer(networkID)
        writer.key("occurred_at")
        writer.string(self.time(time))
        return writer
    }

    private func customData(_ writer: inout JSONWriter, _ entries: [(String, String, String)]) {
        guard sendsCustomData, !entries.isEmpty else { return }
        writer.key("custom_data")
        writer.beginArray()
        for (name, value, source) in entries {
            writer.beginObject()
            writer.key("name")
            writer.string(name)
            writer.key("value")
            writer.string(value)
            writer.key("source")
            writer.string(source)
            writer.endObject()
        }
        writer.endArray()
    }

    private func finish(_ writer: JSONWriter) -> String {
        var writer = writer
        writer.endObject()
        return writer.text
    }

    private func time(_ seconds: Double) -> String {
        Timestamp(milliseconds: Int64((seconds * 1000).rounded(.down))).description
    }
}

/// The custom data fields a network needs for the simulator's calls, with their types.
public enum SimulatedFields {
    public static let all: [(name: String, type: CustomDataType, allowedValues: [String])] = [
        ("utm_source", .shortText, []), ("utm_campaign", .shortText, []), ("line_label", .shortText, []),
        ("ivr_selection", .category, CallScript.ivrChoices), ("Qualified", .signal, []),
    ]
}
