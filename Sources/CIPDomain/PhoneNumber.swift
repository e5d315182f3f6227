import Foundation

/// SPEC 2.6: reads phone numbers in common formats and writes them as E.164.
public enum PhoneNumber {
    /// The E.164 form (`+15309999999`) of `text`, read with `country`'s national rules, or nil.
    public static func normalize(_ text: String, defaultCountry country: String) -> String? {
        guard let (digits, plus) = digitsAndPlus(text) else { return nil }
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

    /// The digits of `text` and whether a `+` came before them, or nil when it holds anything but
    /// digits, one leading `+`, and the separators people write; one pass over the bytes, as the
    /// phone pair lookup runs this twice per request.
    private static func digitsAndPlus(_ text: String) -> (digits: [UInt8], plus: Bool)? {
        // Leading or trailing white space (rare) is trimmed first, as `trimmingSpaces` defines it.
        let trimmed: String
        if let first = text.utf8.first, let last = text.utf8.last, first > 32, first < 128, last > 32, last < 128 {
            trimmed = text
        } else {
            trimmed = text.trimmingSpaces()
        }
        let bytes = trimmed.utf8
        guard !bytes.isEmpty, bytes.count <= 64 else { return nil }
        var digits: [UInt8] = []
        digits.reserveCapacity(bytes.count)
        var plus = false
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            bytes.formIndex(after: &index)
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits.append(byte)
            case UInt8(ascii: "+"):
                guard digits.isEmpty, !plus else { return nil }
                plus = true
            case UInt8(ascii: "("):
                // "+44 (0)20 7946 0958": the bracketed trunk zero is written but never dialled.
                var next = index
                if next != bytes.endIndex, bytes[next] == UInt8(ascii: "0") {
                    bytes.formIndex(after: &next)
                    if next != bytes.endIndex, bytes[next] == UInt8(ascii: ")") {
                        index = bytes.index(after: next)
                    }
                }
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: ")"), UInt8(ascii: "/"), 9:
                continue
            default:
                return nil
            }
        }
        return (digits, plus)
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
