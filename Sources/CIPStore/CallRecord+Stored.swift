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

extension JSONWriter {
    /// `{"name": {"value": ..., "source": "..."}}`, names in order: the API's and the store's form.
    public mutating func writeCustomData(_ customData: [String: CustomDataEntry]) {
        beginObject()
        for name in customData.keys.sorted() {
            let entry = customData[name]!
            key(name)
            beginObject()
            key("value")
            switch entry.value {
            case .bool(let flag): bool(flag)
            case .string(let text): string(text)
            }
            key("source")
            string(entry.source)
            endObject()
        }
        endObject()
    }
}
