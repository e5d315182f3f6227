import CIPDomain
import CIPStore
import CIPTestSupport
import Logging
import Testing

/// The same random sequences of events, updates, expiries and restarts, driven through SQLite and
/// PostgreSQL: both must give the same answers and write the same change log.
@Suite("Differential: SQLite and PostgreSQL agree")
struct DifferentialTests {
    /// A small deterministic generator, so that a failing seed can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// One backend under test; `restart` opens a new store on the same database.
    final class Subject: @unchecked Sendable {
        var store: any ServingStore
        let restart: (any ServingStore) async throws -> any ServingStore
        /// PostgreSQL numbers changes after commit: here, by hand after each step, so both logs match.
        let settle: (any ServingStore) async throws -> Void

        init(
            store: any ServingStore, restart: @escaping (any ServingStore) async throws -> any ServingStore,
            settle: @escaping (any ServingStore) async throws -> Void
        ) {
            self.store = store
            self.restart = restart
            self.settle = settle
        }
    }

    static func sqlite() async throws -> Subject {
        let path = try TemporaryFolder.make().appendingPathComponent("cip.sqlite").path
        let database = try SQLiteDatabase(path: path)
        try await database.migrate()
        let first = try await database.serve()
        return Subject(
            store: first,
            restart: { current in
                try (current as! SQLiteCallStore).close()
                return try await SQLiteDatabase(path: path).serve()
            }, settle: { _ in })
    }

    static func postgres() async throws -> Subject {
        let url = try await StoreBackend.freshPostgresDatabase()
        func open() async throws -> PostgresCallStore {
            let database = try StoreBackend.postgresDatabase(url)
            let store = PostgresCallStore(database: database, manualNumbering: true, readsFromMemory: true)
            store.runUntilReleased()
            try await store.migrate()
            return store
        }
        return Subject(
            store: try await open(), restart: { _ in try await open() },
            settle: { store in try await (store as! PostgresCallStore).sequencer.stampRound() })
    }

    @Test(
        .enabled(if: StoreBackend.postgresURL != nil, "needs CIP_TEST_POSTGRES_URL"), arguments: [1, 2, 3] as [UInt64])
    func randomSequencesGiveTheSameAnswersAndChangeLogs(_ seed: UInt64) async throws {
        let subjects = [try await Self.sqlite(), try await Self.postgres()]
        var worlds: [Fixture] = []
        for subject in subjects { worlds.append(try await Fixture.make(in: subject.store)) }
        let world = worlds[0]
        #expect(worlds[1].networkA.id == world.networkA.id && worlds[1].advertiserA2.id == world.advertiserA2.id)

        var random = SplitMix(state: seed)
        var clock: Int64 = 1_000_000
        var sent: [CallEvent] = []
        let ids = (0..<12).map { "D\($0)" }
        let scopes = [
            world.scope(.network, world.networkA.id), world.scope(.advertiser, world.advertiserA1.id),
            world.scope(.network, world.networkB.id),
        ]
        for index in 0..<250 {
            clock += Int64.random(in: 1...2_000, using: &random)
            let now = Timestamp(milliseconds: clock)
            let id = ids.randomElement(using: &random)!
            let occurred = clock - Int64.random(in: 0...5_000, using: &random)
            // Every random choice is drawn once, before the step runs on each backend.
            enum Step {
                case events([CallEvent])
                case update(CallSelector, CallScope, CallUpdate)
                case expire
                case restart
            }
            let step: Step
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<30:
                let advertiser = [nil, world.advertiserA1, world.advertiserA2].randomElement(using: &random)!
                step = .events([world.bridged(id, at: occurred, advertiser: advertiser)])
            case 30..<45:
                let status: CallStatus = [.onHold, .transferring, .bridged].randomElement(using: &random)!
                let write = CustomDataWrite(
                    name: "f\(Int.random(in: 0..<5, using: &random))",
                    entry: CustomDataEntry(value: .string("e\(index)"), source: "Ivr"))
                step = .events([
                    CallEvent(
                        kind: .updated, transactionID: id, networkID: world.networkA.id, advertiserID: nil,
                        occurredAt: Timestamp(milliseconds: occurred), callStart: nil, callingPhoneNumber: nil,
                        destinationPhoneNumber: nil, status: status, attributes: [:], customData: [write])
                ])
            case 45..<55:
                step = .events([world.ended(id, at: occurred)])
            case 55..<65 where !sent.isEmpty:
                // A repeat of an earlier delivery, in a batch with a fresh bridge.
                step = .events([sent.randomElement(using: &random)!, world.bridged(id, at: occurred)])
            case 65..<88:
                let scope = scopes[Int.random(in: 0..<2, using: &random)]
                let byExternal = Bool.random(using: &random)
                let selector = CallSelector(
                    transactionID: byExternal ? nil : id, externalUniqueID: byExternal ? "X\(id.suffix(1))" : nil)
                let write = CustomDataWrite(
                    name: "f\(Int.random(in: 0..<5, using: &random))",
                    entry: CustomDataEntry(value: .string("p\(index % 7)"), source: publicAPISource))
                let external = Bool.random(using: &random) ? "X\(Int.random(in: 0..<4, using: &random))" : nil
                step = .update(selector, scope, CallUpdate(externalUniqueID: external, customData: [write]))
            case 88..<95:
                step = .expire
            default:
                step = .restart
            }
            if case .events(let events) = step { sent += events }
            var answers: [Answer] = []
            for subject in subjects {
                let store = subject.store
                func record<T: Hashable & Sendable>(_ body: () async throws -> T) async -> Answer {
                    do { return .value(AnyHashable(try await body())) } catch { return .error("\(error)") }
                }
                switch step {
                case .events(let events):
                    answers.append(await record { try await store.apply(events, receivedAt: now) })
                case .update(let selector, let scope, let update):
                    answers.append(await record { try await store.updateCall(selector, in: scope, update) })
                case .expire:
                    answers.append(
                        await record {
                            try await store.expireCalls(silentSince: Timestamp(milliseconds: clock - 20_000), now: now)
                        })
                case .restart:
                    subject.store = try await subject.restart(store)
                    answers.append(.restarted)
                }
                try await subject.settle(subject.store)
            }
            #expect(answers[0] == answers[1], "step \(index) (seed \(seed))")
            if answers[0] != answers[1] { return }
        }
        for scope in scopes {
            let query = CallQuery(scope: scope, transactionID: nil, externalUniqueID: nil, phonePair: nil)
            let lists = try await subjects.asyncMap { try await $0.store.currentCalls(query) }
            #expect(lists[0] == lists[1])
            // A PUT's change is stamped with each store's own clock: everything else must agree.
            let logs = try await subjects.asyncMap {
                try await $0.store.allChanges(visibleTo: scope.organization.ref).map(\.withoutCommitTime)
            }
            #expect(logs[0] == logs[1])
            #expect(
                !logs[0].isEmpty
                    || scope.organization.ref.type == .network && scope.organization.ref.id == world.networkB.id)
            let snapshots = try await subjects.asyncMap { try await $0.store.snapshot(scope) }
            #expect(snapshots[0] == snapshots[1])
        }
    }
}

/// What one step answered on one backend.
enum Answer: Hashable {
    case value(AnyHashable)
    case error(String)
    case restarted
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}

extension LoggedChange {
    /// The change with its commit time left out, for comparing stores that ran at different times.
    fileprivate var withoutCommitTime: LoggedChange {
        LoggedChange(
            sequence: sequence, kind: kind, transactionID: transactionID, networkID: networkID,
            advertiserID: advertiserID, previousAdvertiserID: previousAdvertiserID, changed: changed, call: call)
    }
}
