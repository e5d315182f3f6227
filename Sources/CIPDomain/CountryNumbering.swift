/// How one country writes national numbers: enough to turn them into E.164.
public struct CountryNumbering: Sendable {
    public let isoCode: String
    public let callingCode: String
    /// The national trunk prefix dialled before the national number (`0`), or nil when there is none.
    public let trunkPrefix: String?
    /// Allowed lengths of the national significant number (after the trunk prefix).
    public let nationalLengths: ClosedRange<Int>

    /// The default countries the service knows (SPEC 2.6). NANP members share calling code 1.
    public static let known: [String: CountryNumbering] = {
        let entries: [CountryNumbering] = [
            .init(isoCode: "US", callingCode: "1", trunkPrefix: nil, nationalLengths: 10...10),
            .init(isoCode: "CA", callingCode: "1", trunkPrefix: nil, nationalLengths: 10...10),
            .init(isoCode: "PR", callingCode: "1", trunkPrefix: nil, nationalLengths: 10...10),
            .init(isoCode: "GB", callingCode: "44", trunkPrefix: "0", nationalLengths: 9...10),
            .init(isoCode: "IE", callingCode: "353", trunkPrefix: "0", nationalLengths: 7...9),
            .init(isoCode: "DE", callingCode: "49", trunkPrefix: "0", nationalLengths: 6...13),
            .init(isoCode: "AT", callingCode: "43", trunkPrefix: "0", nationalLengths: 4...13),
            .init(isoCode: "CH", callingCode: "41", trunkPrefix: "0", nationalLengths: 9...9),
            .init(isoCode: "FR", callingCode: "33", trunkPrefix: "0", nationalLengths: 9...9),
            .init(isoCode: "BE", callingCode: "32", trunkPrefix: "0", nationalLengths: 8...9),
            .init(isoCode: "NL", callingCode: "31", trunkPrefix: "0", nationalLengths: 9...9),
            .init(isoCode: "SE", callingCode: "46", trunkPrefix: "0", nationalLengths: 7...9),
            .init(isoCode: "AU", callingCode: "61", trunkPrefix: "0", nationalLengths: 9...9),
            .init(isoCode: "NZ", callingCode: "64", trunkPrefix: "0", nationalLengths: 8...10),
            .init(isoCode: "IN", callingCode: "91", trunkPrefix: "0", nationalLengths: 10...10),
            .init(isoCode: "JP", callingCode: "81", trunkPrefix: "0", nationalLengths: 9...10),
            .init(isoCode: "ZA", callingCode: "27", trunkPrefix: "0", nationalLengths: 9...9),
            .init(isoCode: "BR", callingCode: "55", trunkPrefix: "0", nationalLengths: 10...11),
            .init(isoCode: "IT", callingCode: "39", trunkPrefix: nil, nationalLengths: 6...11),
            .init(isoCode: "ES", callingCode: "34", trunkPrefix: nil, nationalLengths: 9...9),
            .init(isoCode: "MX", callingCode: "52", trunkPrefix: nil, nationalLengths: 10...10),
            .init(isoCode: "DK", callingCode: "45", trunkPrefix: nil, nationalLengths: 8...8),
            .init(isoCode: "NO", callingCode: "47", trunkPrefix: nil, nationalLengths: 8...8),
        ]
        return Dictionary(uniqueKeysWithValues: entries.map { ($0.isoCode, $0) })
    }()

    /// The known country for an ISO code, any case.
    public static func forCountry(_ isoCode: String) -> CountryNumbering? {
        known[isoCode.uppercased()]
    }

    /// Country calling codes that ITU-T E.164 assigns (prefix-free, so the first match is the one).
    static let assignedCallingCodes: Set<String> = {
        var codes: Set<String> = ["1", "7"]
        let twoDigit = [
            20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56, 57,
            58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
        ]
        var threeDigit = [211, 212, 213, 216, 218, 290, 291, 297, 298, 299, 380, 381, 382, 383, 385, 386, 387, 389]
        threeDigit += [420, 421, 423, 670, 690, 691, 692, 800, 808, 850, 852, 853, 855, 856, 870, 878, 880]
        threeDigit += [881, 882, 883, 886, 888, 970, 971, 972, 973, 974, 975, 976, 977, 979]
        threeDigit += [992, 993, 994, 995, 996, 998]
        threeDigit += Array(220...258) + Array(260...269) + Array(350...359) + Array(370...378)
        threeDigit += Array(500...509) + Array(590...599) + Array(672...683) + Array(685...689)
        threeDigit += Array(960...968)
        codes.formUnion(twoDigit.map(String.init))
        codes.formUnion(threeDigit.map(String.init))
        return codes
    }()
}
