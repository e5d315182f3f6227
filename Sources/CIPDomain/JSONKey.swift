/// An object member's key as `JSONParser.members` reads it: where its bytes are in the document when
/// it is ASCII without escapes (compared in place, no string made: `JSONParser.key(_:is:)`), its text
/// otherwise.
struct JSONKey {
    let range: Range<Int>
    let text: String?
}

extension JSONParser {
    /// Whether `key` is `name`.
    func key(_ key: JSONKey, is name: StaticString) -> Bool {
        if let text = key.text { return text == name.description }
        return key.range.count == name.utf8CodeUnitCount
            && self.key(key.range, equals: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    }

    /// Whether `key` is the key whose UTF-8 bytes are `name`.
    func key(_ key: JSONKey, isUTF8 name: [UInt8]) -> Bool {
        if let text = key.text { return text.utf8.elementsEqual(name) }
        guard key.range.count == name.count else { return false }
        return name.withUnsafeBufferPointer { self.key(key.range, equals: $0) }
    }

    /// The key's text.
    func text(of key: JSONKey) -> String {
        key.text
            ?? bytes.withUnsafeBufferPointer {
                String(decoding: UnsafeBufferPointer(rebasing: $0[key.range]), as: UTF8.self)
            }
    }

    private func key(_ range: Range<Int>, equals expected: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.withUnsafeBufferPointer { all in
            for offset in 0..<range.count where all[range.lowerBound + offset] != expected[offset] { return false }
            return true
        }
    }
}
