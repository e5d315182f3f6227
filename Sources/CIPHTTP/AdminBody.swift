import CIPDomain

/// The members of an admin request's JSON body, read with SPEC 2.5's `403` naming the member that
/// is wrong. Unknown members are refused, so a misspelt `id_from_netwrok` is not silently ignored.
struct AdminBody {
    let members: [String: JSONValue]

    init(_ checked: CheckedRequest) {
        members = checked.body
    }

    /// A string member; nil when it is absent. `null` is refused rather than read as absent: in a
    /// PATCH it could as well mean "clear it", which the API does not do.
    func string(_ key: String) throws -> String? {
        switch members[key] {
        case nil: return nil
        case .string(let text)?: return text
        default: throw CatalogError.invalid(field: key, message: "must be a string")
        }
    }

    func requiredString(_ key: String) throws -> String {
        guard let text = try string(key) else { throw CatalogError.invalid(field: key, message: "is required") }
        return text
    }

    /// A positive integer member (a JSON integer, or its decimal text, as ids are elsewhere).
    func requiredInteger(_ key: String) throws -> Int64 {
        guard let value = members[key], value != .null else {
            throw CatalogError.invalid(field: key, message: "is required")
        }
        guard let id = value.positiveID else {
            throw CatalogError.invalid(field: key, message: "must be a positive integer")
        }
        return id
    }

    /// An array of strings; nil when absent.
    func strings(_ key: String) throws -> [String]? {
        switch members[key] {
        case nil: return nil
        case .array(let elements)?:
            return try elements.map { element in
                guard let text = element.stringValue else {
                    throw CatalogError.invalid(field: key, message: "must be an array of strings")
                }
                return text
            }
        default: throw CatalogError.invalid(field: key, message: "must be an array of strings")
        }
    }

    /// Refuses any member but `known` (and the token, which SPEC 2.1 allows in a body).
    func rejectOthers(_ known: Set<String>) throws {
        if let unknown = members.keys.sorted().first(where: { !known.contains($0) && $0 != "oauth_token" }) {
            throw CatalogError.invalid(field: unknown, message: "is not a member of this request")
        }
    }
}
