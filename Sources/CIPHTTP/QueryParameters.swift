import Hummingbird

/// A query string decoded as HTTP clients and HTML forms encode it (SPEC 2.2): `%XX` escapes, and
/// `+` as a space. Hummingbird's own decoding leaves `+` as it is, so `530+999+9999` would not be a
/// phone number and `order+42` would match nothing.
///
/// A name given twice keeps its first value, as before.
struct QueryParameters: Sendable {
    private struct Pair {
        let name: String
        let value: String
    }

    private var pairs: [Pair] = []

    init(_ request: Request) {
        self.init(query: request.uri.query ?? "")
    }

    /// One pass over the bytes, `&` by `&` (every API request parses its query).
    init(query: String) {
        let bytes = query.utf8
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "&")) ?? bytes.endIndex
            if start < end {
                let part = bytes[start..<end]
                let equals = part.firstIndex(of: UInt8(ascii: "="))
                let name = Self.decode(part[part.startIndex..<(equals ?? part.endIndex)])
                let value = equals.map { Self.decode(part[part.index(after: $0)...]) } ?? ""
                pairs.append(Pair(name: name, value: value))
            }
            start = end == bytes.endIndex ? end : bytes.index(after: end)
        }
    }

    subscript(name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// `%XX` to its byte and `+` to a space (not in a path segment, where `+` is itself); a `%` not
    /// followed by two hex digits stays as it is.
    static func decode(_ bytes: Substring.UTF8View.SubSequence, plusIsSpace: Bool = true) -> String {
        guard bytes.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }) else {
            return String(Substring(bytes))
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if plusIsSpace && byte == UInt8(ascii: "+") {
                decoded.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), let high = bytes.index(index, offsetBy: 1, limitedBy: bytes.endIndex),
                high < bytes.endIndex, let low = bytes.index(high, offsetBy: 1, limitedBy: bytes.endIndex),
                low < bytes.endIndex, let h = hexValue(bytes[high]), let l = hexValue(bytes[low])
            {
                decoded.append(h << 4 | l)
                index = low
            } else {
                decoded.append(byte)
            }
            index = bytes.index(after: index)
        }
        return String(decoding: decoded, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A phone number param, with a raw `+` restored: `?calling_phone_number=+15309999999` sent
    /// unencoded decodes to ` 15309999999`, and a number never starts with a space otherwise.
    func phoneNumber(_ name: String) -> String? {
        guard let value = self[name] else { return nil }
        if value.utf8.count > 1, value.utf8.first == UInt8(ascii: " "),
            let second = value.utf8.dropFirst().first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(second)
        {
            return "+" + value.dropFirst()
        }
        return value
    }
}
