import CIPDomain
import Foundation

extension JSONValue {
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    public var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    public static func parse(_ text: String) -> JSONValue? {
        parse(Data(text.utf8))
    }
}
