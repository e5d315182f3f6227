/// SPEC 2.3: a transaction id is 1–32 characters of `0-9 A-Z a-z -`.
public enum TransactionID {
    public static let maxLength = 32

    public static func isValid(_ text: String) -> Bool {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= maxLength else { return false }
        return bytes.allSatisfy { byte in
            (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 45
        }
    }

    private static let crockford = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    /// A new id for a bridged event that came without one: 26 characters, time-ordered like a ULID.
    public static func generate(at time: Timestamp) -> String {
        var characters: [Character] = []
        var value = UInt64(max(0, time.milliseconds))
        for _ in 0..<10 {
            characters.append(crockford[Int(value & 31)])
            value >>= 5
        }
        characters.reverse()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<16 {
            characters.append(crockford[Int(generator.next(upperBound: UInt64(32)))])
        }
        return String(characters)
    }
}
