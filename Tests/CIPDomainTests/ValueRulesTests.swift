import CIPDomain
import Testing

@Suite("Values, ids and times")
struct ValueRulesTests {
    @Test func timestampsRoundTripInTheAPIFormat() throws {
        let time = try #require(Timestamp(iso8601: "2022-12-10T13:49:00.000Z"))
        #expect(time.description == "2022-12-10T13:49:00.000Z")
        #expect(Timestamp(iso8601: "2022-12-10T13:49:00Z") == time)
        #expect(Timestamp(iso8601: "2022-12-10T14:49:00+01:00") == time)
        #expect(Timestamp(iso8601: "2024-02-29T00:00:00.1234Z")?.description == "2024-02-29T00:00:00.123Z")
        #expect(Timestamp(iso8601: "1969-12-31T23:59:59.999Z")?.milliseconds == -1)
        for bad in [
            "", "2022-12-10", "2022-13-10T00:00:00Z", "2023-02-29T00:00:00Z", "2022-12-10T13:49:00", "yesterday",
        ] {
            #expect(Timestamp(iso8601: bad) == nil, "\(bad)")
        }
    }

    @Test func transactionIDsFollowSPEC() {
        #expect(TransactionID.isValid("01FMTK644Z9D-3FPEY1REX8JSZB"))
        #expect(TransactionID.isValid(String(repeating: "a", count: 32)))
        #expect(!TransactionID.isValid(String(repeating: "a", count: 33)))
        #expect(!TransactionID.isValid(""))
        #expect(!TransactionID.isValid("abc_def"))
        #expect(!TransactionID.isValid("abc def"))
        let generated = TransactionID.generate(at: Timestamp(milliseconds: 1_700_000_000_000))
        #expect(TransactionID.isValid(generated) && generated.count == 26)
    }

    @Test func externalIDsArePrintableAndBounded() {
        #expect(ExternalUniqueID.problem(with: "mycalls00001") == nil)
        #expect(ExternalUniqueID.problem(with: String(repeating: "é", count: 255)) == nil)
        #expect(ExternalUniqueID.problem(with: String(repeating: "x", count: 256)) != nil)
        #expect(ExternalUniqueID.problem(with: "") != nil)
        #expect(ExternalUniqueID.problem(with: "tab\there") != nil)
        #expect(ExternalUniqueID.problem(with: String(repeating: "x", count: 255)) == nil)
        #expect(ExternalUniqueID.problem(with: " a~b ") == nil)
        #expect(ExternalUniqueID.problem(with: "del\u{7F}") != nil)
    }

    @Test func fieldValuesFitTheirTypes() throws {
        let signal = CustomDataField(networkID: 1, name: "s", dataType: .signal, allowedValues: [])
        #expect(try signal.accept(.bool(true)).get() == .bool(true))
        #expect(try signal.accept(.string("TRUE")).get() == .bool(true))
        #expect(try signal.accept(.string("false")).get() == .bool(false))
        #expect((try? signal.accept(.string("yes")).get()) == nil)
        #expect((try? signal.accept(.integer(1)).get()) == nil)

        let short = CustomDataField(networkID: 1, name: "t", dataType: .shortText, allowedValues: [])
        #expect(try short.accept(.integer(42)).get() == .string("42"))
        #expect(try short.accept(.number("1.5")).get() == .string("1.5"))
        #expect((try? short.accept(.string(String(repeating: "x", count: 256))).get()) == nil)
        #expect((try? short.accept(.null).get()) == nil)
        #expect((try? short.accept(.bool(true)).get()) == nil)

        let long = CustomDataField(networkID: 1, name: "l", dataType: .longText, allowedValues: [])
        #expect(
            try long.accept(.string(String(repeating: "x", count: 10_000))).get()
                == .string(String(repeating: "x", count: 10_000)))
        #expect((try? long.accept(.string(String(repeating: "x", count: 10_001))).get()) == nil)

        let category = CustomDataField(networkID: 1, name: "c", dataType: .category, allowedValues: ["A", "B"])
        #expect(try category.accept(.string("A")).get() == .string("A"))
        #expect((try? category.accept(.string("C")).get()) == nil)
    }
}
