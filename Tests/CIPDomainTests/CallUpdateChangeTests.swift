import CIPDomain
import Testing

/// An update works out what it changed from what it wrote; that must be exactly what comparing the
/// whole call before and after (`CallChange.between`, which every other write uses) finds: the same
/// parts, in the same order, and a version one more only when something changed.
@Suite("An update's change, from what it wrote")
struct CallUpdateChangeTests {
    static let call = CallObjectRecordTests.record(externalID: "ext-1", advertiserID: 7)

    static func write(_ name: String, _ value: CustomDataValue, source: String = publicAPISource) -> CustomDataWrite {
        CustomDataWrite(name: name, entry: CustomDataEntry(value: value, source: source))
    }

    static let updates: [CallUpdate] = [
        CallUpdate(externalUniqueID: "ext-1", customData: []),
        CallUpdate(externalUniqueID: "ext-2", customData: []),
        CallUpdate(externalUniqueID: nil, customData: [write("Qualified", .bool(true))]),
        CallUpdate(externalUniqueID: nil, customData: [write("Qualified", .bool(false))]),
        // The same value from another source is a change of the field.
        CallUpdate(externalUniqueID: nil, customData: [write("utm_source", .string("google.com\n"))]),
        CallUpdate(
            externalUniqueID: nil,
            customData: [write("utm_source", .string("google.com\n"), source: "DynamicAttribution")]),
        CallUpdate(
            externalUniqueID: "ext-9",
            customData: [
                write("zeta", .string("z")), write("Qualified", .bool(true)), write("alpha", .string("a")),
                write("Empty", .string("now set")),
            ]),
        // A name written twice: the last value stays, and the part is named once.
        CallUpdate(externalUniqueID: nil, customData: [write("b", .string("1")), write("b", .string("2"))]),
        CallUpdate(externalUniqueID: nil, customData: [write("Empty", .string("x")), write("Empty", .string(""))]),
    ]

    @Test(arguments: updates)
    func theChangedPartsAreThoseOfTheWholeComparison(update: CallUpdate) throws {
        let (updated, changed) = update.applied(to: Self.call)
        var expected = Self.call
        if let externalID = update.externalUniqueID { expected.externalUniqueID = externalID }
        expected.merge(update.customData)
        let whole = CallChange.between(Self.call, expected)
        #expect(changed == (whole?.changed ?? []))
        #expect(updated.customData == expected.customData)
        #expect(updated.externalUniqueID == expected.externalUniqueID)
        #expect(updated.version == Self.call.version + (whole == nil ? 0 : 1))
        if let whole { #expect(whole.kind == .updated) }
    }

    @Test func aCallThatIsNotLiveIsLeftAsItIs() {
        var ended = Self.call
        ended.ended = CallEnding(at: Timestamp(milliseconds: 1_670_680_300_000), reason: .ended)
        let (updated, changed) = CallUpdate(externalUniqueID: "ext-2", customData: []).applied(to: ended)
        #expect(changed.isEmpty)
        #expect(updated == ended)
    }
}
