/// One `{"name", "value"[, "source"]}` item of a request's `custom_data` list, checked for shape.
public struct CustomDataItem: Sendable, Hashable {
    public let name: String
    public let value: JSONValue
    public let source: String?
}

/// Reads `custom_data` lists (SPEC 2.4 and 4) in two steps: shape first, then against the fields
/// of the call's network, which is known only once the organization is.
public enum CustomDataRequest {
    public static let maxItems = 100
    public static let maxSourceLength = 255

    /// The items of `raw`, with shape errors added to `errors` under `custom_data…` keys.
    public static func parseShape(
        _ raw: JSONValue, allowSource: Bool, errors: inout ValidationErrors
    ) -> [CustomDataItem] {
        guard case .array(let elements) = raw else {
            errors.add("custom_data", "must be a list of {\"name\", \"value\"} objects")
            return []
        }
        if elements.count > maxItems {
            errors.add("custom_data", "must have at most \(maxItems) entries")
            return []
        }
        var items: [CustomDataItem] = []
        for (index, element) in elements.enumerated() {
            guard let members = element.objectValue else {
                errors.add("custom_data[\(index)]", "must be an object with name and value")
                continue
            }
            guard let nameValue = members["name"] else {
                errors.add("custom_data[\(index)].name", "is required")
                continue
            }
            guard let name = nameValue.stringValue, !name.isEmpty else {
                errors.add("custom_data[\(index)].name", "must be a non-empty string")
                continue
            }
            let key = "custom_data.\(name)"
            guard let value = members["value"] else {
                errors.add(key, "value is required")
                continue
            }
            if case .null = value {
                errors.add(key, "must not be null: custom data can be added or changed, not removed")
                continue
            }
            var source: String?
            if allowSource, let rawSource = members["source"] {
                guard let text = rawSource.stringValue, !text.isEmpty, text.count <= maxSourceLength else {
                    errors.add(key, "source must be a string of 1 to \(maxSourceLength) characters")
                    continue
                }
                guard StoredText.isSingleLine(text) else {
                    errors.add(key, "source " + StoredText.message)
                    continue
                }
                source = text
            }
            items.append(CustomDataItem(name: name, value: value, source: source))
        }
        return items
    }

    /// Checks items against the network's fields; the writes carry `source` unless the item has one.
    public static func resolve(
        _ items: [CustomDataItem], fields: [String: CustomDataField], defaultSource: String,
        errors: inout ValidationErrors
    ) -> [CustomDataWrite] {
        var writes: [CustomDataWrite] = []
        for item in items {
            let key = "custom_data.\(item.name)"
            guard let field = fields[item.name] else {
                errors.add(key, "is not a custom data field of this network")
                continue
            }
            switch field.accept(item.value) {
            case .success(let value):
                writes.append(
                    CustomDataWrite(
                        name: item.name, entry: CustomDataEntry(value: value, source: item.source ?? defaultSource)))
            case .failure(let problem):
                errors.add(key, problem.message)
            }
        }
        return writes
    }
}
