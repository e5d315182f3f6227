import CIPDomain
import Testing

@Suite("Phone number normalization (SPEC 2.6)")
struct PhoneNumberTests {
    struct Case: CustomStringConvertible, Sendable {
        let input: String
        let country: String
        let expected: String?
        var description: String { "\(input) [\(country)] → \(expected ?? "invalid")" }
    }

    static let valid: [Case] = [
        // NANP, the formats of the seed and their variants
        .init(input: "800-555-1234", country: "US", expected: "+18005551234"),
        .init(input: "8005551234", country: "US", expected: "+18005551234"),
        .init(input: "+18005551234", country: "US", expected: "+18005551234"),
        .init(input: "18005551234", country: "US", expected: "+18005551234"),
        .init(input: "1-800-555-1234", country: "US", expected: "+18005551234"),
        .init(input: "(530) 999-9999", country: "US", expected: "+15309999999"),
        .init(input: "530.999.9999", country: "US", expected: "+15309999999"),
        .init(input: " 530 999 9999 ", country: "US", expected: "+15309999999"),
        .init(input: "+1 (530) 999-9999", country: "US", expected: "+15309999999"),
        .init(input: "1 530 999 9999", country: "CA", expected: "+15309999999"),
        .init(input: "416-555-0199", country: "CA", expected: "+14165550199"),
        .init(input: "011 44 20 7946 0958", country: "US", expected: "+442079460958"),
        .init(input: "+1 855 559 5599", country: "GB", expected: "+18555595599"),
        // United Kingdom
        .init(input: "020 7946 0958", country: "GB", expected: "+442079460958"),
        .init(input: "07700 900123", country: "GB", expected: "+447700900123"),
        .init(input: "+44 20 7946 0958", country: "US", expected: "+442079460958"),
        .init(input: "+44 (0)20 7946 0958", country: "US", expected: "+442079460958"),
        .init(input: "+44 (0)(0)20 7946 0958", country: "US", expected: "+442079460958"),
        .init(input: "(0)+44 20 7946 0958", country: "US", expected: "+442079460958"),
        .init(input: "+44 (0", country: "US", expected: nil),
        .init(input: "\t530-999-9999\r\n", country: "US", expected: "+15309999999"),
        .init(input: "530 999 9999 (0)", country: "US", expected: "+15309999999"),
        .init(input: "0044 20 7946 0958", country: "DE", expected: "+442079460958"),
        // Germany
        .init(input: "030 123456", country: "DE", expected: "+4930123456"),
        .init(input: "+49 30 1234567", country: "US", expected: "+49301234567"),
        .init(input: "0151 23456789", country: "DE", expected: "+4915123456789"),
        // France
        .init(input: "01 23 45 67 89", country: "FR", expected: "+33123456789"),
        .init(input: "+33 6 12 34 56 78", country: "US", expected: "+33612345678"),
        // Australia
        .init(input: "(02) 9876 5432", country: "AU", expected: "+61298765432"),
        .init(input: "0412 345 678", country: "AU", expected: "+61412345678"),
        // India
        .init(input: "098765 43210", country: "IN", expected: "+919876543210"),
        .init(input: "+91 98765 43210", country: "US", expected: "+919876543210"),
        // Mexico and Italy have no trunk prefix
        .init(input: "55 1234 5678", country: "MX", expected: "+525512345678"),
        .init(input: "06 1234 5678", country: "IT", expected: "+390612345678"),
        // Any assigned country code with +
        .init(input: "+81 3-1234-5678", country: "US", expected: "+81312345678"),
        .init(input: "+234 802 123 4567", country: "US", expected: "+2348021234567"),
        .init(input: "+380 44 123 4567", country: "US", expected: "+380441234567"),
    ]

    static let invalid: [Case] = [
        .init(input: "", country: "US", expected: nil),
        .init(input: "   ", country: "US", expected: nil),
        .init(input: "anonymous", country: "US", expected: nil),
        .init(input: "Restricted", country: "US", expected: nil),
        .init(input: "12345", country: "US", expected: nil),
        .init(input: "555-1234", country: "US", expected: nil),
        .init(input: "800-555-123", country: "US", expected: nil),
        .init(input: "800-555-12345", country: "US", expected: nil),
        .init(input: "100-555-1234", country: "US", expected: nil),
        .init(input: "011-555-1234", country: "US", expected: nil),
        .init(input: "911-555-1234", country: "US", expected: nil),
        .init(input: "411-555-1234", country: "US", expected: nil),
        .init(input: "800-155-1234", country: "US", expected: nil),
        .init(input: "800-055-1234", country: "US", expected: nil),
        .init(input: "28005551234", country: "US", expected: nil),
        .init(input: "+1 800 555 123", country: "US", expected: nil),
        .init(input: "+999 1234 5678", country: "US", expected: nil),
        .init(input: "+0 123 456 789", country: "US", expected: nil),
        .init(input: "+44 1234 5678 9012 345", country: "US", expected: nil),
        .init(input: "+1234567890123456", country: "US", expected: nil),
        .init(input: "800-555-1234 ext 5", country: "US", expected: nil),
        .init(input: "800+555+1234", country: "US", expected: nil),
        .init(input: "20 7946 0958", country: "GB", expected: nil),
        .init(input: "020 7946", country: "GB", expected: nil),
        .init(input: "01 23 45 67", country: "FR", expected: nil),
        .init(input: "0 12 34 56 78 90", country: "FR", expected: nil),
        .init(input: "55 1234 567", country: "MX", expected: nil),
        .init(input: "8005551234", country: "ZZ", expected: nil),
    ]

    @Test(arguments: valid)
    func readsValidNumbers(_ testCase: Case) {
        #expect(PhoneNumber.normalize(testCase.input, defaultCountry: testCase.country) == testCase.expected)
    }

    @Test(arguments: invalid)
    func refusesInvalidNumbers(_ testCase: Case) {
        #expect(PhoneNumber.normalize(testCase.input, defaultCountry: testCase.country) == nil)
    }

    @Test func coversEnoughCasesAndCountries() {
        #expect(Self.valid.count + Self.invalid.count >= 40)
        let countries = Set((Self.valid + Self.invalid).compactMap { $0.expected }.map { String($0.prefix(3)) })
        #expect(countries.count >= 6)
    }

    @Test func countryCodeIsCaseInsensitive() {
        #expect(PhoneNumber.normalize("020 7946 0958", defaultCountry: "gb") == "+442079460958")
    }
}
