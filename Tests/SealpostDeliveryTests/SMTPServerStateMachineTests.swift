import Foundation
import Testing

@testable import SealpostSMTP

/// The submission server's state machine and framer, driven without sockets: every reply
/// code of the conversation, and what reaches the backend.
@Suite struct SMTPServerStateMachineTests {
    static func configuration(
        startTLS: Bool = true, plaintextAuth: Bool = false, maxErrors: Int = 20
    )
        -> SMTPServerStateMachine.Configuration
    {
        var c = SMTPServerStateMachine.Configuration(
            hostname: "relay.test", startTLSAvailable: startTLS, plaintextAuthAllowed: plaintextAuth,
            normalizeAddress: { $0.contains("@") ? $0.replacingOccurrences(of: "Bücher", with: "xn--bcher-kva") : nil })
        c.maxRecipients = 2
        c.maxErrors = maxErrors
        return c
    }

    /// Feeds one command line and returns the actions.
    static func send(_ m: inout SMTPServerStateMachine, _ line: String) -> [SMTPServerStateMachine.Action] {
        m.handle(.frame(.line(Array(line.utf8))))
    }

    static func replies(_ actions: [SMTPServerStateMachine.Action]) -> [String] {
        actions.compactMap { if case .reply(let r) = $0 { r } else { nil } }
    }

    static let plain = Data("\0apikey\0SG.key".utf8).base64EncodedString()

    @Test func aWholeSessionWithSTARTTLSAndAuthPlain() {
        var m = SMTPServerStateMachine(configuration: Self.configuration())
        #expect(m.handle(.connected) == [.reply("220 relay.test ESMTP Sealpost")])
        #expect(
            Self.send(&m, "EHLO client.test") == [
                .reply(
                    "250-relay.test\r\n250-PIPELINING\r\n250-SIZE 31457280\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250 STARTTLS"
                )
            ])
        #expect(
            Self.send(&m, "AUTH PLAIN \(Self.plain)") == [.reply("538 5.7.11 Encryption required for requested authentication mechanism")])
        #expect(Self.send(&m, "MAIL FROM:<a@b.test>") == [.reply("530 5.7.0 Authentication required")])
        #expect(Self.send(&m, "STARTTLS") == [.reply("220 2.0.0 Ready to start TLS"), .startTLS])
        #expect(m.handle(.tlsEstablished) == [])
        #expect(Self.send(&m, "MAIL FROM:<a@b.test>") == [.reply("503 5.5.1 Send EHLO first")], "TLS forgets the EHLO")
        #expect(
            Self.replies(Self.send(&m, "ehlo client.test"))[0].hasSuffix(
                "250-ENHANCEDSTATUSCODES\r\n250-REQUIRETLS\r\n250 AUTH PLAIN LOGIN"))
        #expect(Self.send(&m, "AUTH PLAIN \(Self.plain)") == [.authenticate(password: "SG.key")])
        #expect(!m.acceptsFrames, "frames wait while the key is checked")
        #expect(m.handle(.authenticated) == [.reply("235 2.7.0 Authentication successful")])
        #expect(
            Self.send(&m, "MAIL FROM:<jörg@b.test> SIZE=100 BODY=8BITMIME") == [
                .reply("553 5.6.7 Non-ASCII address needs the SMTPUTF8 parameter")
            ])
        #expect(Self.send(&m, "MAIL FROM:<a@b.test> SIZE=100 BODY=8BITMIME") == [.authorize])
        #expect(m.handle(.authorized) == [.reply("250 2.1.0 Ok")])
        #expect(Self.send(&m, "RCPT TO:<c@Bücher.test>") == [.reply("250 2.1.5 Ok")])
        #expect(Self.send(&m, "RCPT TO:<bad>") == [.reply("501 5.1.3 Bad recipient address syntax")])
        #expect(Self.send(&m, "RCPT TO:<d@e.test>") == [.reply("250 2.1.5 Ok")])
        #expect(Self.send(&m, "RCPT TO:<f@e.test>") == [.reply("452 4.5.3 Too many recipients")])
        #expect(Self.send(&m, "DATA") == [.reply("354 End data with <CR><LF>.<CR><LF>"), .receiveMessage])
        let actions = m.handle(.frame(.message(Array("Subject: s\r\n\r\nhi\r\n".utf8))))
        guard case .submit(let envelope) = actions.first else {
            Issue.record("no submit: \(actions)")
            return
        }
        #expect(envelope.mailFrom == "a@b.test")
        #expect(envelope.recipients == ["c@xn--bcher-kva.test", "d@e.test"])
        #expect(envelope.tls && envelope.helo == "client.test")
        #expect(!envelope.smtpUTF8)
        #expect(m.handle(.submitted(queueID: "abc")) == [.reply("250 2.0.0 Ok: queued as abc")])
        #expect(Self.send(&m, "RCPT TO:<c@d.test>") == [.reply("503 5.5.1 Need MAIL before RCPT")], "the transaction ended")
        // SMTPUTF8 on MAIL is carried to the envelope, and forgotten with the transaction.
        #expect(Self.send(&m, "MAIL FROM:<jörg@b.test> SMTPUTF8") == [.authorize])
        #expect(m.handle(.authorized) == [.reply("250 2.1.0 Ok")])
        #expect(Self.send(&m, "RCPT TO:<d@e.test>") == [.reply("250 2.1.5 Ok")])
        _ = Self.send(&m, "DATA")
        guard case .submit(let intl) = m.handle(.frame(.message(Array("To: jö@e.test\r\n\r\nhi\r\n".utf8)))).first else {
            Issue.record("no submit")
            return
        }
        #expect(intl.smtpUTF8 && intl.mailFrom == "jörg@b.test")
        _ = m.handle(.submitted(queueID: "def"))
        #expect(Self.send(&m, "MAIL FROM:<a@b.test>") == [.authorize])
        _ = m.handle(.authorized)
        _ = Self.send(&m, "RCPT TO:<d@e.test>")
        _ = Self.send(&m, "DATA")
        guard case .submit(let plain) = m.handle(.frame(.message(Array("x\r\n".utf8)))).first else {
            Issue.record("no submit")
            return
        }
        #expect(!plain.smtpUTF8)
        _ = m.handle(.submitted(queueID: "ghi"))
        #expect(Self.send(&m, "QUIT") == [.reply("221 2.0.0 Bye"), .close])
    }

    /// RFC 8689 §4.1: REQUIRETLS is offered, and its MAIL parameter taken, over TLS only.
    @Test func requireTLSOnlyOverTLSAndForgottenWithTheTransaction() {
        var m = SMTPServerStateMachine(configuration: Self.configuration(plaintextAuth: true))
        _ = m.handle(.connected)
        #expect(!Self.replies(Self.send(&m, "EHLO client.test"))[0].contains("REQUIRETLS"))
        _ = Self.send(&m, "AUTH PLAIN \(Self.plain)")
        _ = m.handle(.authenticated)
        #expect(Self.send(&m, "MAIL FROM:<a@b.test> REQUIRETLS") == [.reply("555 5.5.4 Unsupported parameter REQUIRETLS")])
        var t = SMTPServerStateMachine(configuration: Self.configuration())
        _ = t.handle(.connected)
        _ = Self.send(&t, "EHLO client.test")
        _ = Self.send(&t, "STARTTLS")
        _ = t.handle(.tlsEstablished)
        #expect(Self.replies(Self.send(&t, "EHLO client.test"))[0].contains("\r\n250-REQUIRETLS\r\n"))
        _ = Self.send(&t, "AUTH PLAIN \(Self.plain)")
        _ = t.handle(.authenticated)
        #expect(Self.send(&t, "MAIL FROM:<a@b.test> REQUIRETLS=yes") == [.reply("501 5.5.4 REQUIRETLS takes no value")])
        func submit(_ mail: String) -> SMTPServerStateMachine.Envelope? {
            #expect(Self.send(&t, mail) == [.authorize])
            _ = t.handle(.authorized)
            _ = Self.send(&t, "RCPT TO:<d@e.test>")
            _ = Self.send(&t, "DATA")
            guard case .submit(let envelope) = t.handle(.frame(.message(Array("Subject: s\r\n\r\nhi\r\n".utf8)))).first else { return nil }
            _ = t.handle(.submitted(queueID: "q"))
            return envelope
        }
        #expect(submit("MAIL FROM:<a@b.test> requiretls")?.requireTLS == true)
        #expect(submit("MAIL FROM:<a@b.test>")?.requireTLS == false, "not carried over to the next transaction")
    }

    @Test func authLoginAsksForThePasswordEvenForAWrongUser() {
        var m = SMTPServerStateMachine(configuration: Self.configuration(startTLS: false, plaintextAuth: true))
        _ = m.handle(.connected)
        #expect(Self.replies(Self.send(&m, "EHLO c")).first?.hasSuffix("250 AUTH PLAIN LOGIN") == true)
        #expect(Self.send(&m, "AUTH LOGIN") == [.reply("334 VXNlcm5hbWU6")])
        #expect(Self.send(&m, Data("someone".utf8).base64EncodedString()) == [.reply("334 UGFzc3dvcmQ6")])
        #expect(Self.send(&m, Data("SG.key".utf8).base64EncodedString()) == [.reply("535 5.7.8 Authentication credentials invalid")])
        #expect(Self.send(&m, "AUTH LOGIN \(Data("apikey".utf8).base64EncodedString())") == [.reply("334 UGFzc3dvcmQ6")])
        #expect(Self.send(&m, Data("SG.key".utf8).base64EncodedString()) == [.authenticate(password: "SG.key")])
        #expect(m.handle(.authenticationFailed) == [.reply("535 5.7.8 Authentication credentials invalid")])
        #expect(Self.send(&m, "AUTH PLAIN") == [.reply("334 ")])
        #expect(Self.send(&m, "*") == [.reply("501 5.7.0 Authentication cancelled")])
        #expect(Self.send(&m, "AUTH CRAM-MD5") == [.reply("504 5.5.4 Unrecognized authentication type")])
    }

    @Test func revocationSignsTheSessionOutAndErrorsAreBounded() {
        var m = SMTPServerStateMachine(configuration: Self.configuration(startTLS: false, plaintextAuth: true, maxErrors: 5))
        _ = m.handle(.connected)
        _ = Self.send(&m, "EHLO c")
        _ = Self.send(&m, "AUTH PLAIN \(Self.plain)")
        _ = m.handle(.authenticated)
        #expect(Self.send(&m, "MAIL FROM:<a@b.test>") == [.authorize])
        #expect(
            m.handle(.refused(reply: "535 5.7.8 Authentication credentials invalid", signedOut: true)) == [
                .reply("535 5.7.8 Authentication credentials invalid")
            ])
        #expect(Self.send(&m, "MAIL FROM:<a@b.test>") == [.reply("530 5.7.0 Authentication required")])
        #expect(m.handle(.frame(.lineTooLong)) == [.reply("500 5.5.2 Line too long")])
        #expect(Self.send(&m, "BDAT 10") == [.reply("500 5.5.1 Command unrecognized")])
        #expect(Self.send(&m, "NOOP") == [.reply("250 2.0.0 Ok")], "the session goes on after errors")
        #expect(Self.send(&m, "MAIL FROM:a@b.test") == [.reply("501 5.5.4 Syntax error: MAIL needs FROM:<address>")])
        #expect(
            Self.send(&m, "HELO") == [
                .reply("501 5.5.4 Syntax error: HELO needs a domain or address literal"),
                .reply("421 4.7.0 relay.test Error: too many errors"), .close,
            ])
        #expect(Self.send(&m, "NOOP") == [], "nothing after close")
    }

    @Test func sizeDeclaredTooLargeAndDataTooLarge() {
        var m = SMTPServerStateMachine(configuration: Self.configuration(startTLS: false, plaintextAuth: true))
        _ = m.handle(.connected)
        _ = Self.send(&m, "EHLO c")
        _ = Self.send(&m, "AUTH PLAIN \(Self.plain)")
        _ = m.handle(.authenticated)
        #expect(
            Self.send(&m, "MAIL FROM:<a@b.test> SIZE=31457281") == [.reply("552 5.3.4 Message size exceeds fixed maximum message size")])
        #expect(Self.send(&m, "MAIL FROM:<a@b.test> XFOO=1") == [.reply("555 5.5.4 Unsupported parameter XFOO")])
        _ = Self.send(&m, "MAIL FROM:<a@b.test>")
        _ = m.handle(.authorized)
        _ = Self.send(&m, "RCPT TO:<c@d.test>")
        _ = Self.send(&m, "DATA")
        #expect(m.handle(.frame(.messageTooLarge)) == [.reply("552 5.3.4 Message size exceeds fixed maximum message size")])
        #expect(Self.send(&m, "RCPT TO:<c@d.test>") == [.reply("503 5.5.1 Need MAIL before RCPT")])
        #expect(m.handle(.timeout) == [.reply("421 4.4.2 relay.test Error: timeout exceeded"), .close])
    }
}

@Suite struct SMTPServerFramerTests {
    static func frames(_ framer: inout SMTPServerFramer) -> [SMTPServerFramer.Frame] {
        var out: [SMTPServerFramer.Frame] = []
        while let f = framer.next() { out.append(f) }
        return out
    }

    @Test func linesAcrossReadsAndTooLongLines() {
        var f = SMTPServerFramer(maxMessageSize: 100)
        f.feed(Array("EHLO a\r\nNO".utf8))
        #expect(Self.frames(&f) == [.line(Array("EHLO a".utf8))])
        f.feed(Array("OP\nQUIT\r\n".utf8))
        #expect(Self.frames(&f) == [.line(Array("NOOP".utf8)), .line(Array("QUIT".utf8))])
        // 511 characters + CRLF is over 512; 510 + CRLF is the limit.
        f.feed(Array((String(repeating: "a", count: 510) + "\r\n" + String(repeating: "b", count: 511) + "\r\nX\r\n").utf8))
        #expect(Self.frames(&f) == [.line(Array(String(repeating: "a", count: 510).utf8)), .lineTooLong, .line([0x58])])
        // A line with no end is not kept: memory stays bounded, and it is answered once it ends.
        for _ in 0..<100 { f.feed([UInt8](repeating: 0x41, count: 1000)) }
        #expect(Self.frames(&f) == [])
        #expect(f.bufferedBytes <= 1000)
        f.feed(Array("\r\nRSET\r\n".utf8))
        #expect(Self.frames(&f) == [.lineTooLong, .line(Array("RSET".utf8))])
    }

    @Test func messagesAreUnstuffedAndEndOnlyAtCRLFDotCRLF() {
        var f = SMTPServerFramer(maxMessageSize: 1000)
        f.beginMessage()
        f.feed(Array("Subject: x\r\n\r\n..leading dot\r\nbare\n.\nnot the end\r\n.".utf8))
        #expect(Self.frames(&f) == [])
        f.feed(Array("\r".utf8))
        #expect(Self.frames(&f) == [])
        f.feed(Array("\nQUIT\r\n".utf8))
        #expect(
            Self.frames(&f) == [
                .message(Array("Subject: x\r\n\r\n.leading dot\r\nbare\n.\nnot the end\r\n".utf8)), .line(Array("QUIT".utf8)),
            ])
    }

    @Test func anOversizedMessageIsCountedNotKept() {
        var f = SMTPServerFramer(maxMessageSize: 10)
        f.beginMessage()
        f.feed(Array("0123456789\r\nmore\r\n.\r\nNOOP\r\n".utf8))
        #expect(Self.frames(&f) == [.messageTooLarge, .line(Array("NOOP".utf8))])
    }
}
