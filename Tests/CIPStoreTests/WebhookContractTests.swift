import CIPDomain
import CIPStore
import CIPTestSupport
import Testing

@Suite("Store contract: webhooks (SPEC 9)")
struct WebhookContractTests {
    static let now = Timestamp(milliseconds: 1_000_000)

    static func table(_ world: Fixture) -> WebhookTable {
        (world.store as! any DatabaseForwarding).webhookTable
    }

    static func definition(
        _ world: Fixture, _ organization: OrganizationRef, events: [CallChange.Kind] = CallChange.Kind.allCases
    ) -> WebhookDefinition {
        WebhookDefinition(
            organization: organization, networkID: world.networkA.id, url: "https://hooks.example.com/cip",
            events: events, sealedSecret: "sealed")
    }

    /// Applies events (each one change) and waits until the log has numbered them (PostgreSQL numbers
    /// changes just after they commit); returns the latest sequence number.
    static func commit(_ world: Fixture, _ events: [CallEvent], at received: Int64 = 10_000) async throws -> Int64 {
        let before = try await world.store.changeLogBounds().latest
        _ = try await world.store.apply(events, receivedAt: Timestamp(milliseconds: received))
        let deadline = ContinuousClock.now + .seconds(10)
        while try await world.store.changeLogBounds().latest < before + Int64(events.count),
            ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await world.store.changeLogBounds().latest
    }

    @Test(arguments: StoreBackend.available)
    func aWebhookStartsAfterEveryChangeSoFarAndCountsWhatItWants(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let table = Self.table(world)
        let before = try await Self.commit(world, [world.bridged("OLD", at: 1000)])
        #expect(before == 1)
        let network = try await table.createWebhook(
            Self.definition(world, OrganizationRef(type: .network, id: world.networkA.id), events: [.ended]),
            createdAt: Self.now)
        let advertiser = try await table.createWebhook(
            Self.definition(world, OrganizationRef(type: .advertiser, id: world.advertiserA1.id)), createdAt: Self.now)
        #expect(network.deliveredThrough == before && advertiser.deliveredThrough == before)
        #expect(network.state == .active && network.events == [.ended] && network.lastError == nil)
        #expect(try await table.pendingWebhookChanges(network) == 0)

        _ = try await Self.commit(
            world,
            [
                world.bridged("A1", at: 2000, advertiser: world.advertiserA1),
                world.bridged("A2", at: 2000, advertiser: world.advertiserA2),
                world.bridged("B", at: 2000, network: world.networkB), world.ended("A1", at: 3000),
                world.ended("A2", at: 3000), world.ended("OLD", at: 3000),
            ])
        // The network's webhook wants ends only: three of its network's; the advertiser's, A1's two.
        #expect(try await table.pendingWebhookChanges(network) == 3)
        #expect(try await table.pendingWebhookChanges(advertiser) == 2)
        #expect(try await table.webhooks().map(\.id) == [network.id, advertiser.id])
        #expect(try await table.sealedWebhookSecret(id: network.id) == "sealed")
        #expect(try await table.deleteWebhook(id: advertiser.id)?.id == advertiser.id)
        #expect(try await table.deleteWebhook(id: advertiser.id) == nil)
        #expect(try await table.webhooks().map(\.id) == [network.id])
        // Ids are never reused.
        let next = try await table.createWebhook(
            Self.definition(world, OrganizationRef(type: .network, id: world.networkA.id)), createdAt: Self.now)
        #expect(next.id > advertiser.id)
    }

    @Test(arguments: StoreBackend.available)
    func oneOwnerHoldsTheLeaseUntilItExpires(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let table = Self.table(world)
        let webhook = try await table.createWebhook(
            Self.definition(world, OrganizationRef(type: .network, id: world.networkA.id)), createdAt: Self.now)
        let until = Self.now.advanced(by: .seconds(15))
        #expect(try await table.leaseWebhook(id: webhook.id, owner: "a", until: until, now: Self.now))
        #expect(try await !table.leaseWebhook(id: webhook.id, owner: "b", until: until, now: Self.now))
        #expect(try await table.leaseWebhook(id: webhook.id, owner: "a", until: until, now: Self.now))
        var progress = WebhookProgress(webhook)
        progress.deliveredThrough = 5
        #expect(try await !table.saveWebhookProgress(id: webhook.id, owner: "b", progress))
        #expect(try await table.saveWebhookProgress(id: webhook.id, owner: "a", progress))
        // Once it has expired, another owner takes it, and the old one can no longer save.
        let later = until.advanced(by: .seconds(1))
        #expect(
            try await table.leaseWebhook(
                id: webhook.id, owner: "b", until: later.advanced(by: .seconds(15)), now: later))
        progress.deliveredThrough = 9
        #expect(try await !table.saveWebhookProgress(id: webhook.id, owner: "a", progress))
        #expect(try await table.webhooks().first?.deliveredThrough == 5)
        #expect(try await !table.leaseWebhook(id: 999_999, owner: "a", until: until, now: Self.now))
        // A node stopping gracefully gives its leases up: another takes them at once.
        #expect(try await !table.leaseWebhook(id: webhook.id, owner: "c", until: until, now: later))
        try await table.releaseWebhookLeases(owner: "b")
        #expect(try await table.leaseWebhook(id: webhook.id, owner: "c", until: until, now: later))
    }

    @Test(arguments: StoreBackend.available)
    func progressNeverGoesBackwardsNorOverADisable(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let table = Self.table(world)
        let webhook = try await table.createWebhook(
            Self.definition(world, OrganizationRef(type: .network, id: world.networkA.id)), createdAt: Self.now)
        #expect(
            try await table.leaseWebhook(
                id: webhook.id, owner: "a", until: Self.now.advanced(by: .seconds(15)), now: Self.now))
        var progress = WebhookProgress(webhook)
        progress.deliveredThrough = 7
        progress.state = .failing
        progress.lastError = "the endpoint answered 500"
        progress.failingSince = Self.now
        progress.attempts = 2
        #expect(try await table.saveWebhookProgress(id: webhook.id, owner: "a", progress))
        let saved = try #require(try await table.webhooks().first)
        #expect(saved.state == .failing && saved.deliveredThrough == 7 && saved.attempts == 2)
        #expect(saved.failingSince == Self.now && saved.lastError == "the endpoint answered 500")
        progress.deliveredThrough = 3
        #expect(try await !table.saveWebhookProgress(id: webhook.id, owner: "a", progress))

        let disabled = try #require(
            try await table.disableWebhook(id: webhook.id, reason: "the endpoint answered 410 Gone"))
        #expect(disabled.state == .disabled && disabled.lastError == "the endpoint answered 410 Gone")
        progress.deliveredThrough = 8
        #expect(try await !table.saveWebhookProgress(id: webhook.id, owner: "a", progress))
        #expect(
            try await !table.leaseWebhook(
                id: webhook.id, owner: "a", until: Self.now.advanced(by: .seconds(15)), now: Self.now))
        // A disable by hand keeps the last error.
        #expect(
            try await table.disableWebhook(id: webhook.id, reason: nil)?.lastError == "the endpoint answered 410 Gone")
        #expect(try await table.disableWebhook(id: 999_999, reason: nil) == nil)
        #expect(try await table.enableWebhook(id: 999_999) == nil)
    }

    @Test(arguments: StoreBackend.available)
    func enableResumesWhereItStoppedOrFromNowIfTheLogLostIt(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let table = Self.table(world)
        let network = OrganizationRef(type: .network, id: world.networkA.id)
        let kept = try await table.createWebhook(Self.definition(world, network), createdAt: Self.now)
        let lost = try await table.createWebhook(Self.definition(world, network), createdAt: Self.now)
        _ = try await table.disableWebhook(id: kept.id, reason: nil)
        _ = try await table.disableWebhook(id: lost.id, reason: nil)
        _ = try await Self.commit(world, [world.bridged("P", at: 1000)], at: 10_000)
        let latest = try await Self.commit(
            world, [world.bridged("Q", at: 1000), world.ended("Q", at: 2000)], at: 20_000)

        // The log still holds the first change after `kept`'s cursor: it resumes there.
        let resumed = try #require(try await table.enableWebhook(id: kept.id))
        #expect(resumed.state == .active && resumed.deliveredThrough == kept.deliveredThrough && resumed.skipped == 0)
        #expect(try await table.pendingWebhookChanges(resumed) == 3)
        // Enabling what is already active changes nothing.
        #expect(try await table.enableWebhook(id: kept.id) == resumed)

        // P's change is purged: `lost` starts from now, passing over the two changes left.
        #expect(try await world.store.purgeChanges(committedBefore: Timestamp(milliseconds: 15_000)) == 1)
        let restarted = try #require(try await table.enableWebhook(id: lost.id))
        #expect(restarted.state == .active && restarted.deliveredThrough == latest && restarted.skipped == 2)
        #expect(try await table.pendingWebhookChanges(restarted) == 0)
    }
}
