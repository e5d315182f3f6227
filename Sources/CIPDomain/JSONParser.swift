/// Why a body is not one JSON document.
public enum JSONParseFailure: Error, Equatable, Sendable {
    case notJSON
    case duplicateKey(String)
}

/// A strict RFC 8259 parser into `JSONValue`, working on bytes: the request bodies and the stored
/// JSON columns of every call go through it, and Foundation's Decodable path is many times slower.
struct JSONParser {
    let bytes: [UInt8]
    private var index = 0
    private var depth = 0
    /// The first key an object held twice; RFC 7493 (I-JSON) forbids them, and two readers of one
    /// body (a proxy keeping the first, us the last) would otherwise see two different requests.
    private(set) var duplicateKey: String?
    private static let maxDepth = 64

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The value `bytes` holds, or nil when they are not exactly one JSON document.
    static func parse(_ bytes: [UInt8]) -> JSONValue? {
        try? parseDocument(bytes).get()
    }

    /// The value `bytes` holds, or why they are not exactly one I-JSON document.
    static func parseDocument(_ bytes: [UInt8]) -> Result<JSONValue, JSONParseFailure> {
        var parser = JSONParser(bytes)
        let value = parser.value()
        if let key = parser.duplicateKey { return .failure(.duplicateKey(key)) }
        guard let value else { return .failure(.notJSON) }
        parser.skipWhitespace()
        return parser.index == bytes.count ? .success(value) : .failure(.notJSON)
    }

    /// Reads the object `bytes` holds member by member, without building it: `member` gets each key
    /// and the parser at its value, which it must read (`value()`, `stringValue()` or `members(_:)`),
    /// and returns false to give up. False when `bytes` are not one object or a member gave up.
    /// Repeated keys are not looked for: this is for documents the service wrote itself (a live
    /// call's object, read back on every write).
    static func readObject(_ bytes: [UInt8], _ member: (JSONKey, inout JSONParser) -> Bool) -> Bool {
        var parser = JSONParser(bytes)
        guard parser.members(member) else { return false }
        parser.skipWhitespace()
        return parser.index == bytes.count
    }

    /// Reads the object at the parser's position member by member (see `readObject`): every object
    /// this parser reads, a document's (`object()`) or one the service wrote itself.
    mutating func members(_ member: (JSONKey, inout JSONParser) -> Bool) -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return false }
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { return false }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return true
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = key() else { return false }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return false }
            index += 1
            guard member(key, &self) else { return false }
            skipWhitespace()
            guard index < bytes.count else { return false }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return true
            } else {
                return false
            }
        }
    }

    /// A key as its bytes when it holds no escape (no string made), as its text otherwise.
    private mutating func key() -> JSONKey? {
        var end = index + 1
        var bitsSeen: UInt8 = 0
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") {
                guard bitsSeen < 0x80 else { break }  // not ASCII: validated as a string
                defer { index = end + 1 }
                return JSONKey(range: (index + 1)..<end, text: nil)
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            bitsSeen |= byte
            end += 1
        }
        return string().map { JSONKey(range: 0..<0, text: $0) }
    }

    /// The string at the parser's position; nil when the value there is something else.
    mutating func stringValue() -> String? {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        return string()
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// The value at the parser's position.
    mutating func value() -> JSONValue? {
        skipWhitespace()
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "\""): return string().map(JSONValue.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default: return number()
        }
    }

    private mutating func literal(_ word: StaticString, _ value: JSONValue) -> JSONValue? {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return nil }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return nil }
        index += count
        return value
    }

    /// An object of a document, every key once (see `duplicateKey`).
    private mutating func object() -> JSONValue? {
        var object: [String: JSONValue] = [:]
        let isObject = members { key, parser in
            let name = parser.text(of: key)
            guard let member = parser.value() else { return false }
            guard object.updateValue(member, forKey: name) == nil else {
                parser.duplicateKey = name
                return false
            }
            return true
        }
        return isObject ? .object(object) : nil
    }

    private mutating func array() -> JSONValue? {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { return nil }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            guard let element = value() else { return nil }
            elements.append(element)
            skipWhitespace()
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            } else {
                return nil
            }
        }
    }

    private mutating func string() -> String? {
        index += 1
        let start = index
        // Fast path: no escapes, so the bytes are the string.
        var bitsSeen: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                return Self.text(bytes, start..<index, isASCII: bitsSeen < 0x80)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { return nil }
            bitsSeen |= byte
            index += 1
        }
        var buffer = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(validating: buffer, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { return nil }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(escape)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by an escaped low one.
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                            bytes[index + 1] == UInt8(ascii: "u")
                        else { return nil }
                        index += 2
                        guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { return nil }
                    buffer.append(contentsOf: Array(String(Character(unicode)).utf8))
                default:
                    return nil
                }
            default:
                guard byte >= 0x20 else { return nil }
                buffer.append(byte)
                index += 1
            }
        }
        return nil
    }

    /// The string `bytes[range]` holds; nil when it is not UTF-8. ASCII is UTF-8 as it is, and decoding
    /// it skips `String(validating:)`, which over a slice looked up generic metadata for every string
    /// (a few percent of a PUT's CPU, in a profile).
    private static func text(_ bytes: [UInt8], _ range: Range<Int>, isASCII: Bool) -> String? {
        bytes.withUnsafeBufferPointer { all in
            let slice = UnsafeBufferPointer(rebasing: all[range])
            return isASCII ? String(decoding: slice, as: UTF8.self) : String(validating: slice, as: UTF8.self)
        }
    }

    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
            value = value * 16 + digit
            index += 1
        }
        return value
    }

    private mutating func number() -> JSONValue? {
        let start = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { return nil }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        var integral = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { return nil }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            integral = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard index < bytes.count, isDigit(bytes[index]) else { return nil }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if integral, let value = Int64(text) { return .integer(value) }
        return .number(text)
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
