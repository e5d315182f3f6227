import Foundation

/// A webhook of SPEC 9: an organization's changes POSTed to its endpoint.
public struct Webhook: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        /// Delivering, or waiting for changes.
        case active
        /// The last attempt failed; retried with backoff until it succeeds or 24 hours have passed.
        case failing
        /// Not delivering: by `cip admin webhook disable`, after 24 hours of failures, or on `410`.
        case disabled
    }

    public let id: Int64
    public let organization: OrganizationRef
    /// The organization's network: every change the webhook may be given is of this network.
    public let networkID: Int64
    public let url: String
    /// The change types it is given, in SPEC 8's order.
    public let events: [CallChange.Kind]
    public let createdAt: Timestamp
    public var state: State
    /// Every change up to this sequence number was given to the webhook (or skipped); 0 for none.
    public var deliveredThrough: Int64
    public var lastDeliveryAt: Timestamp?
    public var lastError: String?
    /// When the current run of failures began; nil while deliveries succeed.
    public var failingSince: Timestamp?
    /// Failed attempts since the last success (the backoff's exponent).
    public var attempts: Int
    /// Changes passed over by `enable` because the change log no longer held them (SPEC 9).
    public var skipped: Int64

    public init(
        id: Int64, organization: OrganizationRef, networkID: Int64, url: String, events: [CallChange.Kind],
        createdAt: Timestamp, state: State = .active, deliveredThrough: Int64, lastDeliveryAt: Timestamp? = nil,
        lastError: String? = nil, failingSince: Timestamp? = nil, attempts: Int = 0, skipped: Int64 = 0
    ) {
        self.id = id
        self.organization = organization
        self.networkID = networkID
        self.url = url
        self.events = events
        self.createdAt = createdAt
        self.state = state
        self.deliveredThrough = deliveredThrough
        self.lastDeliveryAt = lastDeliveryAt
        self.lastError = lastError
        self.failingSince = failingSince
        self.attempts = attempts
        self.skipped = skipped
    }

    /// Whether a change of this network, advertiser and kind is the webhook's to deliver: one the
    /// organization may see (SPEC 2.1) of a type it subscribed to. A change that moved a call away
    /// from an advertiser is not: the call is no longer the advertiser's to see.
    public func wants(kind: CallChange.Kind, networkID: Int64, advertiserID: Int64?) -> Bool {
        guard events.contains(kind) else { return false }
        switch organization.type {
        case .network: return networkID == organization.id
        case .advertiser: return advertiserID == organization.id
        }
    }

    /// `call_bridged,call_ended` → the kinds, in SPEC 8's order; nil when a name is unknown or none is given.
    public static func events(from list: String) -> [CallChange.Kind]? {
        let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var kinds: Set<CallChange.Kind> = []
        for name in names {
            guard let kind = CallChange.Kind(rawValue: name) else { return nil }
            kinds.insert(kind)
        }
        return kinds.isEmpty ? nil : CallChange.Kind.allCases.filter(kinds.contains)
    }
}
