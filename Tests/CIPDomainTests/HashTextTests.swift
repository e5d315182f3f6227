import Testing

@testable import CIPDomain

/// The texts made from hashes on every request (a token's SHA-256, a list's ETag) are written without
/// intermediate strings; they must stay exactly what they were: a token's stored hash, and an ETag
/// that every node and every version computes alike.
@Suite("Hashes as text")
struct HashTextTests {
    @Test func aTokensHashIsItsSHA256InLowercaseHex() {
        // FIPS 180-2's test vectors.
        #expect(TokenHash(of: "abc").hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(TokenHash(of: "").hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(TokenHash(of: "cip_é").hex.utf8.count == 64)
    }

    @Test func hashesCompareEqualOnlyWhenEqual() {
        let hash = TokenHash(of: "cip_token")
        #expect(hash.constantTimeEquals(TokenHash(of: "cip_token")))
        #expect(!hash.constantTimeEquals(TokenHash(of: "cip_tokeN")))
        #expect(!hash.constantTimeEquals(TokenHash(hex: String(hash.hex.dropLast()))))
        #expect(!hash.constantTimeEquals(TokenHash(hex: String(hash.hex.dropLast()) + "x")))
        #expect(!hash.constantTimeEquals(TokenHash(hex: "x" + String(hash.hex.dropFirst()))))
    }

    @Test(arguments: [0, 1, 9, 10, 99, 100, 12_345, -1, -10, 1_670_680_140_456, Int64.max, Int64.min])
    func aNumberAddsTheBytesOfItsDecimalText(number: Int64) {
        var byNumber = Fingerprint()
        byNumber.add(decimal: number)
        var byText = Fingerprint()
        byText.add(String(number))
        #expect(byNumber.value == byText.value)
    }

    @Test func theHexIsSixteenDigitsPaddedWithZeros() {
        var fingerprint = Fingerprint()
        for value: UInt64 in [0, 1, 0xf, 0xabc, 0x0123_4567_89ab_cdef, .max] {
            fingerprint.value = value
            let digits = String(value, radix: 16)
            #expect(fingerprint.hex == String(repeating: "0", count: 16 - digits.count) + digits)
        }
    }
}
