/// The four types of a custom data field (Marketing Data Field), named as the API shows them.
public enum CustomDataType: String, Sendable, Hashable, CaseIterable {
    case signal = "Signal"
    case category = "Category"
    case shortText = "Short Text"
    case longText = "Long Text"

    /// The CLI spelling: `signal`, `category`, `short-text`, `long-text`.
    public var cliName: String {
        switch self {
        case .signal: return "signal"
        case .category: return "category"
        case .shortText: return "short-text"
        case .longText: return "long-text"
        }
    }

    public init?(cliName: String) {
        guard let match = Self.allCases.first(where: { $0.cliName == cliName.lowercased() }) else { return nil }
        self = match
    }

    /// Either spelling, any case: `Short Text` (as fields are printed) or `short-text` (as the CLI takes).
    public init?(anyName name: String) {
        let lowered = name.lowercased()
        guard
            let match = Self.allCases.first(where: { $0.cliName == lowered || $0.rawValue.lowercased() == lowered })
        else { return nil }
        self = match
    }

    /// The longest text a field of this type holds.
    public var maxLength: Int {
        switch self {
        case .signal: return 5
        case .category, .shortText: return 255
        case .longText: return 10_000
        }
    }
}

/// A custom data field defined for one network.
public struct CustomDataField: Sendable, Hashable {
    public let networkID: Int64
    public let name: String
    public let dataType: CustomDataType
    /// For `Category` fields: the values allowed; empty means any text.
    public let allowedValues: [String]

    public init(networkID: Int64, name: String, dataType: CustomDataType, allowedValues: [String]) {
        self.networkID = networkID
        self.name = name
        self.dataType = dataType
        self.allowedValues = allowedValues
    }

    /// The stored value for `raw` (SPEC 2.4's table), or the message that says why it does not fit.
    public func accept(_ raw: JSONValue) -> Result<CustomDataValue, FieldError> {
        switch dataType {
        case .signal:
            switch raw {
            case .bool(let flag): return .success(.bool(flag))
            case .string(let text) where text.lowercased() == "true": return .success(.bool(true))
            case .string(let text) where text.lowercased() == "false": return .success(.bool(false))
            case .null: return .failure(FieldError("must not be null"))
            default: return .failure(FieldError("must be true or false"))
            }
        case .category, .shortText, .longText:
            if case .null = raw { return .failure(FieldError("must not be null")) }
            guard let text = raw.scalarText else { return .failure(FieldError("must be a string")) }
            guard text.count <= dataType.maxLength else {
                return .failure(FieldError("must be at most \(Self.grouped(dataType.maxLength)) characters"))
            }
            guard StoredText.isMultiline(text) else { return .failure(FieldError(StoredText.multilineMessage)) }
            if dataType == .category, !allowedValues.isEmpty, !allowedValues.contains(text) {
                return .failure(FieldError("must be one of: " + allowedValues.joined(separator: ", ")))
            }
            return .success(.string(text))
        }
    }

    private static func grouped(_ value: Int) -> String {
        value >= 1000 ? "\(value / 1000),\(String(value % 1000).leftPadded(to: 3))" : String(value)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// A validation message for one offending part of a request.
public struct FieldError: Error, Sendable, Hashable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// A custom data value: `true`/`false` for Signal fields, text for the rest.
public enum CustomDataValue: Sendable, Hashable {
    case bool(Bool)
    case string(String)
}

/// A value on a call together with who set it.
public struct CustomDataEntry: Sendable, Hashable {
    public let value: CustomDataValue
    public let source: String

    public init(value: CustomDataValue, source: String) {
        self.value = value
        self.source = source
    }
}

/// A custom data value to write, already checked against its field.
public struct CustomDataWrite: Sendable, Hashable {
    public let name: String
    public let entry: CustomDataEntry

    public init(name: String, entry: CustomDataEntry) {
        self.name = name
        self.entry = entry
    }
}

/// The source of values written through the public update API.
public let publicAPISource = "CallsInProgressAPI"

extension CustomDataField {
    /// The field with `values` it does not allow yet appended, in order (SPEC 6: allowed values are
    /// added, never removed, so every stored value stays valid). Only a category field that already
    /// lists its values takes more: one with none accepts any text, and a first value would restrict it.
    public func addingAllowedValues(_ values: [String]) throws -> CustomDataField {
        guard dataType == .category else {
            throw CatalogError.invalid(field: "add_allowed_values", message: "are only for category fields")
        }
        guard !allowedValues.isEmpty else {
            throw CatalogError.invalid(
                field: "add_allowed_values",
                message: "cannot be added to a category field that accepts any value (it has none listed)")
        }
        var merged = allowedValues
        for value in values where !merged.contains(value) { merged.append(value) }
        return CustomDataField(networkID: networkID, name: name, dataType: dataType, allowedValues: merged)
    }
}
