import Foundation

/// Message identifiers shared by both doors of intake (HTTP Mail Send, SMTP submission).
public enum MessageIDs {
    /// An `X-Message-Id`: 22 URL-safe characters of 16 random bytes, like SendGrid's.
    public static func newMessageID() -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
