import Foundation

/// SPEC 2.6: reads phone numbers in common formats and writes them as E.164.
public enum PhoneNumber {
    /// The E.164 form (`+15309999999`) of `text`, read with `country`'s national rules, or nil.
    public static func normalize(_ text: String, defaultCountry country: String) -> String? {
        var input = text.trimmingSpaces()
        guard !input.isEmpty, input.utf8.count <= 64 else { return nil }
        // "+44 (0)20 7946 0958": the bracketed trunk zero is written but never dialled.
        input = input.replacingAll("(0)", with: "")
        var digits: [UInt8] = []
        var plus = false
        for byte in input.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits.append(byte)
            case UInt8(ascii: "+"):
                guard digits.isEmpty, !plus else { return nil }
                plus = true
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "("),
                UInt8(ascii: ")"), UInt8(ascii: "/"), 9:
                continue
            default:
                return nil
            }
        }
        guard !digits.isEmpty else { return nil }
        var number = String(decoding: digits, as: UTF8.self)
        let home = CountryNumbering.forCountry(country)
        if plus {
            return international(number)
        }
        if home?.callingCode == "1", number.hasPrefix("011") {
            return international(String(number.dropFirst(3)))
        }
        if number.hasPrefix("00") {
            return international(String(number.dropFirst(2)))
        }
        guard let home else { return nil }
        if home.callingCode == "1" {
            if number.count == 11, number.hasPrefix("1") { number.removeFirst() }
            return isValidNANP(number) ? "+1" + number : nil
        }
        if let trunk = home.trunkPrefix {
            guard number.hasPrefix(trunk) else { return nil }
            number.removeFirst(trunk.count)
        }
        guard home.nationalLengths.contains(number.count), !number.hasPrefix("0") || home.trunkPrefix == nil
        else { return nil }
        return "+" + home.callingCode + number
    }

    /// Checks an international number given without its `+`: a known calling code, E.164 length.
    private static func international(_ digits: String) -> String? {
        guard digits.count <= 15, let first = digits.first, first != "0" else { return nil }
        for length in 1...3 {
            let code = String(digits.prefix(length))
            guard CountryNumbering.assignedCallingCodes.contains(code) else { continue }
            var national = String(digits.dropFirst(length))
            if code == "1" {
                return isValidNANP(national) ? "+" + digits : nil
            }
            if let known = CountryNumbering.known.values.first(where: { $0.callingCode == code }) {
                // A trunk zero written after the calling code ("+44 020 ...") is dropped.
                if let trunk = known.trunkPrefix, national.hasPrefix(trunk),
                    !known.nationalLengths.contains(national.count)
                {
                    national.removeFirst(trunk.count)
                }
                guard known.nationalLengths.contains(national.count) else { return nil }
                if known.trunkPrefix != nil, national.hasPrefix("0") { return nil }
                return "+" + code + national
            }
            return national.count >= 4 ? "+" + digits : nil
        }
        return nil
    }

    /// NANP: NPA-NXX-XXXX with area code and exchange starting 2–9 and no N11 area code.
    private static func isValidNANP(_ national: String) -> Bool {
        let bytes = Array(national.utf8)
        guard bytes.count == 10 else { return false }
        let two = UInt8(ascii: "2")
        let one = UInt8(ascii: "1")
        guard bytes[0] >= two, bytes[3] >= two else { return false }
        if bytes[1] == one && bytes[2] == one { return false }
        return true
    }
}

extension String {
    /// Trims spaces, tabs and line breaks at both ends.
    package func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }

    package func replacingAll(_ target: String, with replacement: String) -> String {
        guard contains(target) else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
