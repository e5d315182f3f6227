/// Writes JSON text by hand so that keys come out in the documented order, fast.
public struct JSONWriter: Sendable {
    public private(set) var text: String = ""
    private var needsComma: [Bool] = [false]

    public init() {
        text.reserveCapacity(512)
    }

    public mutating func beginObject() {
        separate()
        text.append("{")
        needsComma.append(false)
    }

    public mutating func endObject() {
        needsComma.removeLast()
        text.append("}")
    }

    public mutating func beginArray() {
        separate()
        text.append("[")
        needsComma.append(false)
    }

    public mutating func endArray() {
        needsComma.removeLast()
        text.append("]")
    }

    /// Writes `"key":`; the value written next belongs to it.
    public mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        text.append(":")
        needsComma[needsComma.count - 1] = false
        pendingKey = true
    }

    public mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
    }

    public mutating func integer(_ value: Int64) {
        separate()
        text.append(String(value))
    }

    public mutating func bool(_ value: Bool) {
        separate()
        text.append(value ? "true" : "false")
    }

    public mutating func null() {
        separate()
        text.append("null")
    }

    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .integer(let number): integer(number)
        case .double(let number):
            separate()
            text.append(number.isFinite ? String(number) : "null")
        case .string(let string): self.string(string)
        case .array(let elements):
            beginArray()
            for element in elements { self.value(element) }
            endArray()
        case .object(let members):
            beginObject()
            for name in members.keys.sorted() {
                key(name)
                self.value(members[name]!)
            }
            endObject()
        }
    }

    private var pendingKey = false

    private mutating func separate() {
        if pendingKey {
            pendingKey = false
            needsComma[needsComma.count - 1] = true
            return
        }
        if needsComma[needsComma.count - 1] { text.append(",") }
        needsComma[needsComma.count - 1] = true
    }

    private mutating func appendQuoted(_ value: String) {
        text.append("\"")
        var plainStart = value.utf8.startIndex
        let utf8 = value.utf8
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte < 0x20 || byte == 0x22 || byte == 0x5C {
                text.append(contentsOf: value[plainStart..<index])
                switch byte {
                case 0x22: text.append("\\\"")
                case 0x5C: text.append("\\\\")
                case 0x0A: text.append("\\n")
                case 0x0D: text.append("\\r")
                case 0x09: text.append("\\t")
                default:
                    let hex = String(byte, radix: 16)
                    text.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                }
                plainStart = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        text.append(contentsOf: value[plainStart..<utf8.endIndex])
        text.append("\"")
    }
}
