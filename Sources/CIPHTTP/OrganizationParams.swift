import CIPDomain
import Hummingbird

/// Reads SPEC 2.2's `id` and `organization_type` query params.
enum OrganizationParams {
    static func parse(
        _ params: QueryParameters, errors: inout ValidationErrors
    )
        -> OrganizationRef?
    {
        var id: Int64?
        if let raw = params["id"] {
            id = PositiveID.parse(raw)
            if id == nil { errors.add("id", "must be a positive integer") }
        } else {
            errors.add("id", "is required")
        }
        var type: OrganizationType?
        if let raw = params["organization_type"] {
            type = OrganizationType(parsing: raw)
            if type == nil { errors.add("organization_type", "must be network or advertiser") }
        } else {
            errors.add("organization_type", "is required")
        }
        guard let id, let type else { return nil }
        return OrganizationRef(type: type, id: id)
    }

    /// An optional param that, when given, must be a valid transaction id.
    static func transactionID(
        _ params: QueryParameters, errors: inout ValidationErrors
    )
        -> String?
    {
        guard let raw = params["transaction_id"] else { return nil }
        let text = raw
        guard TransactionID.isValid(text) else {
            errors.add("transaction_id", "must be 1 to 32 characters of 0-9, A-Z, a-z and -")
            return nil
        }
        return text
    }

    /// An optional param that, when given, must be a valid external unique id.
    static func externalUniqueID(
        _ params: QueryParameters, errors: inout ValidationErrors
    )
        -> String?
    {
        guard let raw = params["external_unique_id"] else { return nil }
        let text = raw
        if let problem = ExternalUniqueID.problem(with: text) {
            errors.add("external_unique_id", problem)
            return nil
        }
        return text
    }
}
