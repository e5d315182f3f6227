import CIPDomain
import Foundation

/// The JSON columns of a stored call, shared by every backend.
extension CallRecord {
    var attributesJSON: String {
        var writer = JSONWriter()
        writer.value(.object(attributes))
        return writer.text
    }

    var customDataJSON: String {
        var writer = JSONWriter()
        writer.writeCustomData(customData)
        return writer.text
    }

    static func attributes(fromJSON text: String) -> [String: JSONValue] {
        JSONValue.parse(text: text)?.objectValue ?? [:]
    }

    static func customData(fromJSON text: String) -> [String: CustomDataEntry] {
        guard let members = JSONValue.parse(text: text)?.objectValue else { return [:] }
        var entries: [String: CustomDataEntry] = [:]
        for (name, raw) in members {
            guard let object = raw.objectValue, let source = object["source"]?.stringValue else { continue }
            switch object["value"] {
            case .bool(let flag)?: entries[name] = CustomDataEntry(value: .bool(flag), source: source)
            case .string(let text)?: entries[name] = CustomDataEntry(value: .string(text), source: source)
            default: continue
            }
        }
        return entries
    }
}
