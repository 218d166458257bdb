import Testing

@testable import SealpostCore

@Suite struct TenancyTests {
    @Test func onBehalfOfSubuserIsTheBareUsername() {
        #expect(OnBehalfOf(header: "sub1") == .subuser(username: "sub1"))
        #expect(OnBehalfOf(header: "  sub1 ") == .subuser(username: "sub1"))
        // The old documented prefix is not special: it names a subuser literally called so.
        #expect(OnBehalfOf(header: "subuser_sub1") == .subuser(username: "subuser_sub1"))
    }

    @Test func onBehalfOfCustomerAccount() {
        #expect(OnBehalfOf(header: "account-id 42") == .customer(accountID: 42))
        #expect(OnBehalfOf(header: "Account-ID   7") == .customer(accountID: 7))
        #expect(OnBehalfOf(header: "account-id 42").description == "account-id 42")
    }

    @Test(arguments: ["", "   ", "account-id", "account-id abc", "account-id -3", "account-id 0", "account-id 1 2"])
    func onBehalfOfInvalid(header: String) {
        #expect(OnBehalfOf(header: header) == .invalid)
    }

    @Test func userNames() {
        #expect(UserName.validationError("acme-corp_1.eu") == nil)
        #expect(UserName.validationError("") != nil)
        #expect(UserName.validationError("has space") != nil)
        #expect(UserName.validationError("new\nline") != nil)
        #expect(UserName.validationError("ünïcode") != nil)
        #expect(UserName.validationError(String(repeating: "a", count: 65)) != nil)
        #expect(UserName.validationError("account-id-5") != nil, "would be read as a customer account in on-behalf-of")
    }

    @Test func scopeGrants() {
        let some = ScopeGrant.scopes([Scope.enforcedTLSRead])
        #expect(some.allows(Scope.enforcedTLSRead))
        #expect(!some.allows(Scope.enforcedTLSUpdate))
        #expect(ScopeGrant.fullAccess.allows(Scope.enforcedTLSUpdate))
        #expect(ScopeGrant.fullAccess.listed == Scope.all)
        #expect(some.missing(from: [Scope.enforcedTLSRead, Scope.apiKeysCreate]) == [Scope.apiKeysCreate])
        #expect(ScopeGrant.fullAccess.missing(from: Set(Scope.all)).isEmpty)
    }
}
