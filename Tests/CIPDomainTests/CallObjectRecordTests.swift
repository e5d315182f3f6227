import CIPDomain
import Foundation
import Testing

/// A live call's record rebuilt from its call object (what a memory index keeps) is the record that
/// wrote it: a write that starts from the rebuilt record stores exactly what a read of the file
/// would have given it.
@Suite("A live call's record, rebuilt from its call object")
struct CallObjectRecordTests {
    static func record(externalID: String?, advertiserID: Int64?) -> CallRecord {
        CallRecord(
            transactionID: "01FMTK644Z9D-3FPEY1REX8JSZB", networkID: 25, advertiserID: advertiserID, status: .onHold,
            externalUniqueID: externalID, callingPhoneNumber: "anonymous", destinationPhoneNumber: "+18555595599",
            callStart: Timestamp(milliseconds: 1_670_680_000_123),
            transferStart: Timestamp(milliseconds: 1_670_680_140_456),
            attributes: [
                "called_phone_number": .string("+18557174046"), "promo_number_id": .integer(42),
                "advertiser_id_from_network": .number("1.5"), "city": .string("Sacramento \"CA\" é"),
            ],
            customData: [
                "Qualified": CustomDataEntry(value: .bool(true), source: "CallsInProgressAPI"),
                "utm_source": CustomDataEntry(value: .string("google.com\n"), source: "DynamicAttribution"),
                "Empty": CustomDataEntry(value: .string(""), source: "PreCallAPI"),
                // Names written with escapes, or not ASCII: read as text, not compared in place.
                "Zoë \"quoted\" \\": CustomDataEntry(value: .string("x"), source: "CallsInProgressAPI"),
                "call_status": CustomDataEntry(value: .bool(false), source: "Ivr"),
            ],
            lastEventAt: Timestamp(milliseconds: 1_670_680_200_000), lastReceivedAt: Timestamp(milliseconds: 99),
            ended: nil, wasBridged: true, version: 7)
    }

    @Test(arguments: [("ext-1", Int64(7)), (nil, nil)] as [(String?, Int64?)])
    func rebuiltRecordEqualsTheOriginal(externalID: String?, advertiserID: Int64?) {
        let original = Self.record(externalID: externalID, advertiserID: advertiserID)
        let rebuilt = CallRecord(
            liveCallObject: CallObjectJSON(original), networkID: original.networkID,
            lastEventAt: original.lastEventAt, lastReceivedAt: original.lastReceivedAt)
        #expect(rebuilt == original)
        // A member this reader does not know (a newer writer's) is passed over.
        var object = CallObjectJSON(original).bytes
        object.insert(contentsOf: Array(#""future": {"a": [1, {"b": null}]}, "#.utf8), at: 1)
        #expect(
            CallRecord(
                liveCallObject: CallObjectJSON(json: object), networkID: original.networkID,
                lastEventAt: original.lastEventAt, lastReceivedAt: original.lastReceivedAt) == original)
    }

    @Test func aMinimalCallAndNotACallObject() {
        var minimal = Self.record(externalID: nil, advertiserID: nil)
        minimal.attributes = [:]
        minimal.customData = [:]
        minimal.status = .bridged
        #expect(
            CallRecord(
                liveCallObject: CallObjectJSON(minimal), networkID: 25, lastEventAt: minimal.lastEventAt,
                lastReceivedAt: minimal.lastReceivedAt) == minimal)
        for text in [#"{}"#, #"[1]"#, #"{"transaction_id": 5}"#, "not json"] {
            #expect(
                CallRecord(
                    liveCallObject: CallObjectJSON(json: Array(text.utf8)), networkID: 1,
                    lastEventAt: minimal.lastEventAt,
                    lastReceivedAt: minimal.lastReceivedAt) == nil)
        }
    }

    /// A call object cut or altered in a way that loses what a record needs is not a call.
    @Test func alteredObjectsAreNotRead() throws {
        let original = Self.record(externalID: nil, advertiserID: 7)
        let text = String(decoding: CallObjectJSON(original).bytes, as: UTF8.self)
        let alterations = [
            text + " x", text.replacingOccurrences(of: #""external_unique_id":null,"#, with: ""),
            text.replacingOccurrences(of: #""advertiser_id":7"#, with: #""advertiser_id":"7""#),
            text.replacingOccurrences(of: #""version":7"#, with: #""version":"7""#),
            String(text.dropLast()),
        ]
        for altered in alterations {
            #expect(altered != text)
            #expect(
                CallRecord(
                    liveCallObject: CallObjectJSON(json: Array(altered.utf8)), networkID: 25,
                    lastEventAt: original.lastEventAt, lastReceivedAt: original.lastReceivedAt) == nil)
        }
    }
}
