import CIPDomain

/// SPEC 2.8's opaque cursor: the position of the last call of a page, bound to the organization and
/// filters it was issued for. It holds a transfer time and a transaction id of the caller's own list
/// and a fingerprint of the query: no secret, nothing of another organization.
enum ListCursor {
    /// What a cursor is valid for: the organization and every filter (not the page itself).
    struct Binding {
        let organization: OrganizationRef
        let transactionID: String?
        let externalUniqueID: String?
        let phonePair: PhonePair?

        var fingerprint: String {
            var print = Fingerprint()
            print.add("\(organization.type.rawValue):\(organization.id)|")
            print.add("t:\(transactionID ?? "")|e:\(externalUniqueID ?? "")|")
            print.add("p:\(phonePair?.calling ?? ""),\(phonePair?.destination ?? "")")
            return print.hex
        }
    }

    /// `base64url("<transfer ms>.<binding>.<transaction id>")`.
    static func encode(_ position: CallPosition, for binding: Binding) -> String {
        let text = "\(position.transferStart.milliseconds).\(binding.fingerprint).\(position.transactionID)"
        return Base64URL.encode(Array(text.utf8))
    }

    /// The position `text` continues after, if it is a cursor issued for this list.
    static func decode(_ text: String, for binding: Binding) -> CallPosition? {
        guard text.utf8.count <= 128, let bytes = Base64URL.decode(text) else { return nil }
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: ".", maxSplits: 2).map(String.init)
        guard parts.count == 3, let milliseconds = Int64(parts[0]), parts[1] == binding.fingerprint,
            TransactionID.isValid(parts[2])
        else { return nil }
        return CallPosition(transferStart: Timestamp(milliseconds: milliseconds), transactionID: parts[2])
    }
}

/// Base64 with the URL-safe alphabet and no padding (RFC 4648 §5), so a cursor needs no escaping in
/// a query string.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
            for position in 0...chunk.count {
                out.append(alphabet[Int((value >> (18 - 6 * UInt32(position))) & 63)])
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt32] = []
        for byte in text.utf8 {
            guard let value = alphabet.firstIndex(of: byte) else { return nil }
            values.append(UInt32(value))
        }
        guard values.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        var index = 0
        while index < values.count {
            let group = Array(values[index..<min(index + 4, values.count)])
            let value = group.enumerated().reduce(UInt32(0)) { $0 | $1.element << (18 - 6 * UInt32($1.offset)) }
            for position in 0..<(group.count - 1) { out.append(UInt8((value >> (16 - 8 * UInt32(position))) & 255)) }
            index += 4
        }
        return out
    }
}
