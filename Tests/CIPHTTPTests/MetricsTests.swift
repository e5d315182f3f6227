import CIPDomain
import CIPTestSupport
import Testing

@Suite("Metrics (SPEC 7)")
struct MetricsTests {
    static func value(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test(arguments: StoreBackend.available) func metricsArePresentAndChangeAsRequestsAreServed(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let route =
                #"cip_http_requests_total{route="/api/2022-08-01/calls_in_progress/current_calls.json",method="GET",status="200"}"#
            let before = try await api.request(.get, "/metrics")
            #expect(before.status == 200)
            #expect(before.headers[.contentType]?.hasPrefix("text/plain") == true)
            #expect(Self.value(before.text, "cip_live_calls") == 0)

            try await api.bridge("T1")
            try await api.bridge("T1")
            _ = try await api.find(api.networkA, token: api.world.tokens.networkA)
            _ = try await api.find(api.networkA, token: api.world.tokens.networkA)
            let after = try await api.request(.get, "/metrics").text
            #expect(Self.value(after, route) == 2)
            #expect(Self.value(after, #"cip_telephony_events_total{result="applied"}"#) == 1)
            #expect(Self.value(after, #"cip_telephony_events_total{result="duplicate"}"#) == 1)
            #expect(Self.value(after, "cip_live_calls") == 1)
            #expect(
                after.contains(
                    #"cip_http_request_duration_seconds_bucket{route="/api/2022-08-01/calls_in_progress/current_calls.json""#
                ))
            #expect(after.contains("cip_database_errors_total"))
            // Labels carry routes, never ids, tokens or numbers.
            #expect(!after.contains(api.world.tokens.networkA) && !after.contains("T1") && !after.contains("+1530"))
        }
    }
}
