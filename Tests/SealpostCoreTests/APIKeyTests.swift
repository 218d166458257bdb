import Testing

@testable import SealpostCore

@Suite struct APIKeyTests {
    @Test func generatedKeysHaveSendGridShape() {
        let token = APIKeyToken.generate()
        let text = token.plaintext
        #expect(text.count == 69)
        #expect(text.hasPrefix("SG."))
        #expect(token.id.count == 22 && token.secret.count == 43)
        #expect(APIKeyToken(presented: text) == token)
        #expect(APIKeyToken(presented: "Bearer \(text)".dropFirst(7)) == token, "a Substring of the header parses the same")
    }

    /// 1 in 64 ids would begin with `-` and be taken for an option by `sealpost keys revoke`.
    @Test func idsNeverLookLikeAnOption() {
        #expect((0..<3000).allSatisfy { _ in !APIKeyToken.generate().id.hasPrefix("-") })
    }

    @Test func keysAreUnique() {
        let ids = Set((0..<200).map { _ in APIKeyToken.generate().plaintext })
        #expect(ids.count == 200)
    }

    @Test(arguments: [
        "", "SG.", "SG..", "sg.aaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "SG.aaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "SG.aaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x",
        "SG.aaaaaaaaaaaaaaaaaaaa+a.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "XX.aaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "SG.aaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",  // the dot one early
        "SG.aaaaaaaaaaaaaaaaaaaaaa.\u{301}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",  // a combining mark after the dot
        "SG.aaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\u{e9}",  // a non-ASCII last letter
        " SG.aaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ])
    func malformedKeysAreRejected(text: String) {
        #expect(APIKeyToken(presented: text) == nil)
    }

    @Test func secretMatchesOnlyItsOwnHash() {
        let a = APIKeyToken.generate()
        let b = APIKeyToken.generate()
        #expect(a.matches(storedHash: a.secretHash))
        #expect(!a.matches(storedHash: b.secretHash))
        #expect(!a.matches(storedHash: []))
        #expect(a.secretHash.count == 32)
        #expect(a.secretHash != Array(a.secret.utf8), "only a hash is ever stored")
    }

    @Test func constantTimeEquality() {
        #expect(constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEqual([1, 2, 3], [1, 2]))
        #expect(constantTimeEqual([], []))
    }
}
