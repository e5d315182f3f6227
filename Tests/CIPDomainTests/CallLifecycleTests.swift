import CIPDomain
import Testing

@Suite("Call lifecycle (SPEC 4)")
struct CallLifecycleTests {
    static func event(_ kind: CallEventKind, at ms: Int64, network: Int64 = 1, status: CallStatus? = nil) -> CallEvent {
        CallEvent(
            kind: kind, transactionID: "T1", networkID: network, advertiserID: nil,
            occurredAt: Timestamp(milliseconds: ms), callStart: nil,
            callingPhoneNumber: kind == .bridged ? "+15309999999" : nil,
            destinationPhoneNumber: kind == .bridged ? "+18555595599" : nil, status: status, attributes: [:],
            customData: [])
    }

    static let now = Timestamp(milliseconds: 5_000)

    static func applied(_ outcome: CallLifecycle.Outcome) -> CallRecord? {
        if case .applied(let record) = outcome { return record }
        return nil
    }

    @Test func bridgeMakesALiveCall() throws {
        let record = try #require(
            Self.applied(
                CallLifecycle.apply(Self.event(.bridged, at: 1000), to: nil, alreadySeen: false, receivedAt: Self.now)))
        #expect(record.isLive && record.status == .bridged)
        #expect(record.transferStart.milliseconds == 1000 && record.callStart.milliseconds == 1000)
        #expect(record.lastReceivedAt == Self.now)
    }

    @Test func repeatsAreDuplicates() {
        let outcome = CallLifecycle.apply(
            Self.event(.bridged, at: 1000), to: nil, alreadySeen: true, receivedAt: Self.now)
        #expect(outcome == .duplicate)
    }

    @Test func olderEventsAreIgnored() throws {
        let live = try #require(
            Self.applied(
                CallLifecycle.apply(Self.event(.bridged, at: 1000), to: nil, alreadySeen: false, receivedAt: Self.now)))
        #expect(
            CallLifecycle.apply(
                Self.event(.updated, at: 999, status: .onHold), to: live, alreadySeen: false, receivedAt: Self.now)
                == .ignored)
        let held = try #require(
            Self.applied(
                CallLifecycle.apply(
                    Self.event(.updated, at: 1001, status: .onHold), to: live, alreadySeen: false, receivedAt: Self.now)
            ))
        #expect(held.status == .onHold)
    }

    @Test func endedCallsStayEnded() throws {
        let tombstone = try #require(
            Self.applied(
                CallLifecycle.apply(Self.event(.ended, at: 2000), to: nil, alreadySeen: false, receivedAt: Self.now)))
        #expect(!tombstone.isLive && tombstone.ended?.reason == .ended)
        #expect(
            CallLifecycle.apply(Self.event(.bridged, at: 1000), to: tombstone, alreadySeen: false, receivedAt: Self.now)
                == .ignored)
        #expect(
            CallLifecycle.apply(Self.event(.bridged, at: 3000), to: tombstone, alreadySeen: false, receivedAt: Self.now)
                == .ignored)
        #expect(
            CallLifecycle.apply(Self.event(.updated, at: 3000), to: tombstone, alreadySeen: false, receivedAt: Self.now)
                == .ignored)
    }

    @Test func transactionIDsAreGlobal() throws {
        let live = try #require(
            Self.applied(
                CallLifecycle.apply(Self.event(.bridged, at: 1000), to: nil, alreadySeen: false, receivedAt: Self.now)))
        guard
            case .rejected(let errors) = CallLifecycle.apply(
                Self.event(.bridged, at: 2000, network: 2), to: live, alreadySeen: false, receivedAt: Self.now)
        else {
            Issue.record("expected a rejection")
            return
        }
        #expect(!errors.messages(for: "transaction_id").isEmpty)
    }

    @Test func updatesOfUnknownCallsAreRejected() {
        guard
            case .rejected = CallLifecycle.apply(
                Self.event(.updated, at: 1000), to: nil, alreadySeen: false, receivedAt: Self.now)
        else {
            Issue.record("expected a rejection")
            return
        }
    }
}
