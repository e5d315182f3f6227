/// A call's place in SPEC 2.2's order (most recent transfer first, ties by transaction id): what a
/// paging cursor remembers of the last call of a page (SPEC 2.8).
public struct CallPosition: Sendable, Hashable {
    public let transferStart: Timestamp
    public let transactionID: String

    public init(transferStart: Timestamp, transactionID: String) {
        self.transferStart = transferStart
        self.transactionID = transactionID
    }

    public init(of record: CallRecord) {
        self.init(transferStart: record.transferStart, transactionID: record.transactionID)
    }

    /// Whether `record` comes after this position in SPEC 2.2's order.
    public func isFollowed(by record: CallRecord) -> Bool {
        isFollowed(by: CallPosition(of: record))
    }

    /// Whether `other` comes after this position in SPEC 2.2's order.
    public func isFollowed(by other: CallPosition) -> Bool {
        if other.transferStart != transferStart { return other.transferStart < transferStart }
        return other.transactionID > transactionID
    }
}

/// SPEC 2.8: at most `limit` calls (nil: all of them), after `after` (nil: from the first).
public struct CallPage: Sendable, Hashable {
    public let limit: Int?
    public let after: CallPosition?

    public init(limit: Int?, after: CallPosition?) {
        self.limit = limit
        self.after = after
    }

    public static let everything = CallPage(limit: nil, after: nil)
}

/// One answer of `current_calls`: the calls of the page, where the next page starts, and SPEC 2.7's
/// ETag of the whole answer.
public struct CallListing: Sendable {
    public let calls: [CallObjectJSON]
    /// The last listed call's position, when more calls follow it.
    public let next: CallPosition?
    public let etag: String

    /// The listing of `listed` (already in order and after the page's start), cut at the page's
    /// limit; `position`, `version` and `object` read each listed call's place, version and call
    /// object (closures rather than a whole `CallRecord`, whose copy costs a retain per field).
    /// Inlinable, so that a store's call to it is specialized for its own type: unspecialized, every
    /// GET looked up the generic metadata of its arrays and closures at run time.
    @inlinable
    public init<Listed>(
        _ listed: [Listed], page: CallPage, position: (Listed) -> CallPosition, version: (Listed) -> Int64,
        object: (Listed) -> CallObjectJSON
    ) {
        let shown = page.limit.map { Array(listed.prefix($0)) } ?? listed
        let next = shown.count < listed.count ? shown.last.map(position) : nil
        self.calls = shown.map(object)
        self.next = next
        self.etag = ListETag.of(shown, transactionID: { position($0).transactionID }, version: version, next: next)
    }

    /// The listing of records.
    public init(_ records: [CallRecord], page: CallPage) {
        self.init(
            records, page: page, position: CallPosition.init(of:), version: \.version, object: CallObjectJSON.init)
    }
}

/// SPEC 2.7's ETag of a list: the same calls at the same versions, in the same order and with the
/// same next page, give the same tag on every node; any change gives another (FNV-1a, 64 bits).
public enum ListETag {
    @inlinable
    public static func of<Listed>(
        _ listed: [Listed], transactionID: (Listed) -> String, version: (Listed) -> Int64, next: CallPosition?
    ) -> String {
        var hash = Fingerprint()
        for call in listed {
            hash.add(transactionID(call))
            hash.add(".")
            hash.add(decimal: version(call))
            hash.add(";")
        }
        if let next {
            hash.add("next:")
            hash.add(decimal: next.transferStart.milliseconds)
            hash.add(next.transactionID)
        }
        return "\"l\(listed.count)-\(hash.hex)\""
    }
}

/// FNV-1a over text, for tags that must be the same on every node and every run.
public struct Fingerprint: Sendable {
    @usableFromInline var value: UInt64 = 0xcbf2_9ce4_8422_2325

    @inlinable
    public init() {}

    @inlinable
    public mutating func add(_ text: String) {
        add(bytes: text.utf8)
    }

    @inlinable
    public mutating func add(bytes: some Sequence<UInt8>) {
        for byte in bytes { add(byte: byte) }
    }

    /// The same bytes as `add(String(number))`, without making the string.
    @inlinable
    public mutating func add(decimal number: Int64) {
        if number < 0 { add(byte: UInt8(ascii: "-")) }
        var rest = number.magnitude
        var divisor: UInt64 = 1
        while rest / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            add(byte: UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    @inlinable
    mutating func add(byte: UInt8) {
        value ^= UInt64(byte)
        value = value &* 0x100_0000_01b3
    }

    /// Sixteen lowercase hex digits.
    public var hex: String {
        String(
            unsafeUninitializedCapacity: 16,
            initializingUTF8With: { buffer in
                for index in 0..<16 {
                    let nibble = UInt8(truncatingIfNeeded: value >> (60 - 4 * UInt64(index))) & 0x0F
                    buffer[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
                }
                return 16
            })
    }
}
