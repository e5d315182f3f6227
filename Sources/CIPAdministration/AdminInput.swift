import CIPDomain

/// The checks of administrative inputs, each failure naming its API field.
public enum AdminInput {
    /// A name (or an id from a network): 1 to 255 characters on one line, surrounding spaces dropped.
    public static func name(_ value: String, field: String) throws -> String {
        let trimmed = value.trimmingSpaces
        guard !trimmed.isEmpty, trimmed.count <= 255 else {
            throw CatalogError.invalid(field: field, message: "must be 1 to 255 characters")
        }
        guard StoredText.isSingleLine(trimmed) else {
            throw CatalogError.invalid(field: field, message: StoredText.message)
        }
        return trimmed
    }

    public static func id(_ value: Int64, field: String) throws -> Int64 {
        guard value > 0 else { throw CatalogError.invalid(field: field, message: "must be a positive integer") }
        return value
    }

    /// An ISO 3166 code the phone normalizer knows, as its canonical spelling.
    public static func country(_ value: String) throws -> String {
        guard let numbering = CountryNumbering.forCountry(value) else {
            let known = CountryNumbering.known.keys.sorted().joined(separator: ", ")
            throw CatalogError.invalid(field: "country", message: "must be one of \(known)")
        }
        return numbering.isoCode
    }

    public static func allowedValues(_ values: [String], field: String) throws -> [String] {
        if let bad = values.first(where: { $0.isEmpty || $0.count > 255 }) {
            throw CatalogError.invalid(field: field, message: "\"\(bad)\" must be 1 to 255 characters")
        }
        if values.contains(where: { !StoredText.isSingleLine($0) }) {
            throw CatalogError.invalid(field: field, message: StoredText.message)
        }
        return values
    }

    public static func description(_ value: String?) throws -> String? {
        guard let value else { return nil }
        guard StoredText.isSingleLine(value), value.count <= 255 else {
            throw CatalogError.invalid(field: "description", message: "must be at most 255 characters, on one line")
        }
        return value
    }

    public static func organizationType(_ value: String) throws -> OrganizationType {
        guard let type = OrganizationType(parsing: value) else {
            throw CatalogError.invalid(field: "organization_type", message: "must be network or advertiser")
        }
        return type
    }

    public static func scope(_ value: String) throws -> TokenScope {
        guard let scope = TokenScope(rawValue: value.lowercased()) else {
            throw CatalogError.invalid(field: "scope", message: "must be read or write")
        }
        return scope
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return String(text)
    }
}
