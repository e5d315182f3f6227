import CIPDomain
import Foundation
import Testing

@Suite("Webhook signatures, secrets and targets (SPEC 9)")
struct WebhookRulesTests {
    @Test func signaturesMatchTheStandardWebhooksTestVector() throws {
        // The vector of the Standard Webhooks reference libraries (and of the `standardwebhooks`
        // package on PyPI, which signs it the same way).
        let secret = try #require(WebhookSecret(text: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let signature = secret.signature(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8))
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(secret.text == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    }

    @Test func secretsAreThirtyTwoRandomBytesShownWithTheirPrefix() throws {
        let one = WebhookSecret.generate()
        let two = WebhookSecret.generate()
        #expect(one.key.count == 32 && one != two)
        #expect(one.text.hasPrefix("whsec_") && WebhookSecret(text: one.text) == one)
        #expect(WebhookSecret(text: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == nil)
        #expect(WebhookSecret(text: "whsec_") == nil)
        #expect(WebhookSecret(text: "whsec_not base64!") == nil)
    }

    @Test func sealedSecretsOpenOnlyWithTheirKey() throws {
        let key = try #require(WebhookSealingKey(fileText: WebhookSealingKey.generateFileText()))
        let other = try #require(WebhookSealingKey(fileText: WebhookSealingKey.generateFileText()))
        let secret = WebhookSecret.generate()
        let sealed = try key.seal(secret)
        #expect(key.open(sealed) == secret)
        #expect(other.open(sealed) == nil)
        #expect(!sealed.contains(secret.text.dropFirst(6)))
        #expect(try key.seal(secret) != sealed)  // a fresh nonce each time
        var tampered = Array(sealed.utf8)
        tampered[tampered.count - 3] ^= 1
        #expect(key.open(String(decoding: tampered, as: UTF8.self)) == nil)
        #expect(WebhookSealingKey(fileText: "too short") == nil)
        #expect(WebhookSealingKey(fileText: Data(repeating: 7, count: 16).base64EncodedString()) == nil)
    }

    @Test func urlsAreJudgedAsWritten() {
        let strict = WebhookTargetPolicy()
        func refused(_ url: String, _ policy: WebhookTargetPolicy = WebhookTargetPolicy()) -> Bool {
            if case .failure = policy.check(url: url) { return true }
            return false
        }
        #expect(!refused("https://hooks.example.com/cip?x=1"))
        #expect(!refused("https://93.184.216.34:8443/cip"))
        #expect(!refused("https://[2606:4700::1111]/cip"))
        for url in [
            "http://hooks.example.com/cip", "ftp://hooks.example.com/", "hooks.example.com/cip", "https:///cip", "",
            "https://user:pw@hooks.example.com/", "https://localhost/", "https://api.localhost/",
            "https://127.0.0.1/", "https://127.8.9.10/", "https://10.0.0.1/", "https://172.16.5.4/",
            "https://172.31.255.255/", "https://192.168.1.1/", "https://169.254.169.254/", "https://100.64.0.1/",
            "https://0.0.0.0/", "https://224.0.0.251/", "https://255.255.255.255/", "https://[::1]/", "https://[::]/",
            "https://[fe80::1]/", "https://[fd12:3456::1]/", "https://[ff02::1]/", "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:10.0.0.1]/", "https://[64:ff9b::a00:1]/", "https://2130706433/", "https://0x7f.1/",
            "https://127.1/", "https://017700000001/",
        ] {
            #expect(refused(url, strict), "\(url)")
        }
        #expect(!refused("https://172.32.0.1/") && !refused("https://11.0.0.1/"))
        #expect(!refused("http://hooks.example.com/", WebhookTargetPolicy(allowInsecure: true)))
        #expect(refused("http://127.0.0.1/", WebhookTargetPolicy(allowInsecure: true)))
        #expect(!refused("http://127.0.0.1:9/", WebhookTargetPolicy(allowInsecure: true, allowPrivate: true)))
        #expect(refused("http://127.0.0.1/", WebhookTargetPolicy(allowPrivate: true)))
        if case .success(let url) = strict.check(url: "https://[2606:4700::1111]:8443/x") {
            #expect(url.host == "2606:4700::1111" && url.port == 8443)
        } else {
            Issue.record("a public IPv6 URL was refused")
        }
    }

    @Test func resolvedAddressesAreJudgedAfterResolution() throws {
        let strict = WebhookTargetPolicy()
        #expect(strict.refusal(of: try #require(IPAddress("127.0.0.1")))?.description.contains("loopback") == true)
        #expect(strict.refusal(of: try #require(IPAddress("fd00::5")))?.description.contains("private") == true)
        #expect(strict.refusal(of: try #require(IPAddress("8.8.8.8"))) == nil)
        #expect(WebhookTargetPolicy(allowPrivate: true).refusal(of: try #require(IPAddress("10.0.0.1"))) == nil)
        #expect(IPAddress("hooks.example.com") == nil)
        #expect(IPAddress("::ffff:127.0.0.1")?.restrictedKind == "loopback")
    }

    @Test func eventListsAndVisibility() {
        #expect(Webhook.events(from: "call_ended, call_bridged") == [.bridged, .ended])
        #expect(Webhook.events(from: "call_updated,call_updated") == [.updated])
        #expect(Webhook.events(from: "call_ended,hangup") == nil)
        #expect(Webhook.events(from: " , ") == nil)
        let network = Webhook(
            id: 1, organization: OrganizationRef(type: .network, id: 5), networkID: 5, url: "https://x.example/",
            events: [.bridged, .ended], createdAt: Timestamp(milliseconds: 0), deliveredThrough: 0)
        #expect(network.wants(kind: .bridged, networkID: 5, advertiserID: 7))
        #expect(!network.wants(kind: .updated, networkID: 5, advertiserID: 7))
        #expect(!network.wants(kind: .bridged, networkID: 6, advertiserID: 7))
        let advertiser = Webhook(
            id: 2, organization: OrganizationRef(type: .advertiser, id: 7), networkID: 5, url: "https://x.example/",
            events: CallChange.Kind.allCases, createdAt: Timestamp(milliseconds: 0), deliveredThrough: 0)
        #expect(advertiser.wants(kind: .updated, networkID: 5, advertiserID: 7))
        // A call moved to another advertiser is no longer this one's to see.
        #expect(!advertiser.wants(kind: .updated, networkID: 5, advertiserID: 8))
        #expect(!advertiser.wants(kind: .updated, networkID: 5, advertiserID: nil))
    }
}
