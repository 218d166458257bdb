import Testing

@testable import SealpostCore

@Suite struct SMTPUTF8Tests {
    @Test func onlyTheHeaderSectionCounts() {
        #expect(SMTPUTF8.headersNeedIt(Array("To: jö@a.test\r\nSubject: x\r\n\r\nbody".utf8)))
        #expect(SMTPUTF8.headersNeedIt(Array("Subject: x\r\nTo: b@a.test,\r\n jö@a.test\r\n\r\n".utf8)), "a folded line")
        #expect(!SMTPUTF8.headersNeedIt(Array("Subject: =?UTF-8?B?w7Y=?=\r\n\r\nGrüße".utf8)), "UTF-8 in the body only")
        #expect(!SMTPUTF8.headersNeedIt(Array("Subject: x\n\nGrüße".utf8)), "bare LF line ends")
        #expect(SMTPUTF8.headersNeedIt(Array("Subject: x\nX: ö\n\n".utf8)))
        #expect(!SMTPUTF8.headersNeedIt([]))
        #expect(SMTPUTF8.headersNeedIt([0x58, 0x3A, 0x20, 0xFF]), "a header section without an end")
    }
}
