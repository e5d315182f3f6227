import CIPDomain
import CIPTestSupport
import Foundation
import Testing

/// Inputs a hostile or merely unusual client sends, and what is stored of them (issue 9, items 3,
/// 4, 6 and 8).
@Suite("Hostile and unusual input")
struct HostileInputTests {
    static func body(_ inner: String) -> String { #"{"call_in_progress":{\#(inner)}}"# }

    @Test(arguments: StoreBackend.available) func numbersForTextFieldsKeepTheTextTheyWereSentAs(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge(
                "T1", extra: #","advertiser_campaign_id":1e999,"promo_number_id":12345678901234567890"#)
            let reply = try await api.update(
                api.networkA + "&transaction_id=T1",
                Self.body(
                    #""custom_data":[{"name":"Notes","value":9999999999999999999},{"name":"utm_source","value":1e300},{"name":"Call Disposition","value":1e999},{"name":"f1","value":-0.50}]"#
                ),
                token: api.world.tokens.networkA)
            #expect(reply.status == 200)
            let listed = try await api.find(api.networkA + "&transaction_id=T1", token: api.world.tokens.networkA)
            let found = try #require(listed.calls.first)
            let data = found["custom_data"]
            #expect(data?["Notes"]?["value"]?.stringValue == "9999999999999999999")
            #expect(data?["utm_source"]?["value"]?.stringValue == "1e300")
            #expect(data?["Call Disposition"]?["value"]?.stringValue == "1e999")
            #expect(data?["f1"]?["value"]?.stringValue == "-0.50")
            #expect(listed.text.contains(#""advertiser_campaign_id":1e999"#))
            #expect(listed.text.contains(#""promo_number_id":12345678901234567890"#))
        }
    }

    @Test(arguments: StoreBackend.available) func plusInAQueryStringIsASpace(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("T1", calling: "530-999-9999", destination: "+44 20 7946 0000")
            let token = api.world.tokens.networkA
            let set = try await api.update(
                api.networkA + "&transaction_id=T1", Self.body(#""external_unique_id":"order 42""#), token: token)
            #expect(set.status == 200)
            let byForm = try await api.find(
                api.networkA + "&calling_phone_number=530+999+9999&destination_phone_number=%2B44+20+7946+0000",
                token: token)
            #expect(byForm.status == 200)
            #expect(byForm.calls.count == 1)
            // A `+` sent raw decodes to a space; a number never starts with one, so it is read as `+`.
            let raw = try await api.find(
                api.networkA + "&calling_phone_number=+15309999999&destination_phone_number=+442079460000", token: token
            )
            #expect(raw.status == 200)
            #expect(raw.calls.count == 1)
            let byID = try await api.find(api.networkA + "&external_unique_id=order+42", token: token)
            #expect(byID.calls.first?["transaction_id"]?.stringValue == "T1")
            let put = try await api.update(
                api.networkA + "&external_unique_id=order+42",
                Self.body(#""custom_data":[{"name":"Qualified","value":true}]"#), token: token)
            #expect(put.status == 200)
            // The token in the query is decoded the same way: `%2B`, never a bare `+`, stands for a plus.
            let queryToken = try await api.find(api.networkA + "&oauth_token=\(token)", token: nil)
            #expect(queryToken.status == 200)
        }
    }

    @Test(arguments: StoreBackend.available) func controlCharactersAreRefusedWhereverTheyWouldBeStored(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let net = api.world.networkA.id
            let nul = try await api.events(
                #"{"event":"call_bridged","transaction_id":"T1","network_id":\#(net),"occurred_at":"2022-12-10T13:49:00.000Z","calling_phone_number":"Restr\u0000icted","destination_phone_number":"855-559-5599"}"#
            )
            #expect(nul.status == 200)
            #expect(nul.statuses == ["rejected"])
            #expect(nul.results.first?["errors"]?["calling_phone_number"] != nil)
            let attribute = try await api.bridge("T2", extra: #","city":"Sacra\u001bmento""#)
            #expect(attribute.statuses == ["rejected"])
            let source = try await api.bridge(
                "T3", extra: #","custom_data":[{"name":"utm_source","value":"x","source":"Ivr\u0007"}]"#)
            #expect(source.statuses == ["rejected"])
            let token = api.world.tokens.networkA
            #expect(try await api.find(api.networkA, token: token).calls.isEmpty)

            try await api.bridge("T4")
            let refused = try await api.update(
                api.networkA + "&transaction_id=T4",
                Self.body(
                    #""custom_data":[{"name":"Notes","value":"a\u0000b"},{"name":"utm_source","value":"c\u0001"}]"#),
                token: token)
            #expect(refused.status == 403)
            #expect(
                refused.errors("custom_data.Notes") == [
                    "must not contain control characters other than tab and line breaks"
                ])
            #expect(
                refused.errors("custom_data.utm_source") == [
                    "must not contain control characters other than tab and line breaks"
                ])
            let externalID = try await api.update(
                api.networkA + "&transaction_id=T4", Self.body(#""external_unique_id":"a\u0000b""#), token: token)
            #expect(externalID.status == 403)
            // Text values may span lines: tab, line feed and carriage return are kept as sent.
            let lines = try await api.update(
                api.networkA + "&transaction_id=T4",
                Self.body(#""custom_data":[{"name":"Notes","value":"line 1\r\nline\t2"}]"#), token: token)
            #expect(lines.status == 200)
            let found = try await api.find(api.networkA + "&transaction_id=T4", token: token).calls.first
            #expect(found?["custom_data"]?["Notes"]?["value"]?.stringValue == "line 1\r\nline\t2")
        }
    }

    @Test(arguments: StoreBackend.available) func duplicateKeysInABodyAreRefused(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("T1")
            let token = api.world.tokens.networkA
            let twice = try await api.update(
                api.networkA + "&transaction_id=T1",
                #"{"call_in_progress":{"external_unique_id":"first","external_unique_id":"second"}}"#, token: token)
            #expect(twice.status == 400)
            #expect(twice.errors("body") == [#"has the key "external_unique_id" more than once"#])
            // Two body tokens: neither is taken, so the request has no token.
            let tokens = try await api.update(
                api.networkA + "&transaction_id=T1",
                #"{"oauth_token":"\#(api.world.tokens.networkB)","oauth_token":"\#(token)","call_in_progress":{"external_unique_id":"x"}}"#,
                token: nil)
            #expect(tokens.status == 401)
            let feed = try await api.events(#"{"events":[],"events":[]}"#)
            #expect(feed.status == 400)
            #expect(
                try await api.find(api.networkA + "&transaction_id=T1", token: token).calls.first?["external_unique_id"]
                    == .null)
        }
    }
}
