import Foundation

@testable import SealpostCore

/// A one-recipient message for `rcpt@sink.test` from `user`, due at once; its body names `token`
/// so a test can find it in what the sink received.
func sinkMessage(_ user: User, _ token: String) -> NewMessage {
    NewMessage(
        id: "\(token).0", xMessageID: token, userID: user.id, mailFrom: "\(user.name)@sender.test", smtpID: "<\(token)@t>",
        content: Array("Subject: \(token)\r\n\r\nbody of \(token)\r\n".utf8), categories: [], customArgs: [:],
        recipients: ["rcpt@sink.test"], notBefore: Date(timeIntervalSince1970: 0))
}
