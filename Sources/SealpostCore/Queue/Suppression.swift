/// SendGrid's suppression lists. Bounces, invalid emails and global unsubscribes keep mail from
/// being sent to an address again (a send to it is `dropped`); blocks are only reported, never
/// suppress (as in SendGrid: a block is the sending side's, or the network's, problem).
public enum SuppressionList: String, Sendable, CaseIterable, Hashable {
    case blocks
    /// Permanent (5xx) answers from the receiving server.
    case bounces
    /// Addresses whose domain does not exist or takes no mail (NXDOMAIN, RFC 7505 null MX).
    case invalidEmails = "invalid_emails"
    /// Global unsubscribes (`/v3/asm/suppressions/global`).
    case unsubscribes

    /// The `reason` of the `dropped` event of a send to an address on this list (SendGrid's
    /// words); `nil` for blocks, which do not suppress.
    public var dropReason: String? {
        switch self {
        case .blocks: nil
        case .bounces: "Bounced Address"
        case .invalidEmails: "Invalid"
        case .unsubscribes: "Unsubscribed Address"
        }
    }

    /// The lists a send is checked against, in the order a drop reason is chosen.
    public static let suppressing: [SuppressionList] = [.unsubscribes, .bounces, .invalidEmails]
}

/// An entry's place in a list, as a delivery outcome adds it (the address on the bounce list
/// after a 5xx, on the blocks list after a TLS block).
public struct SuppressionListing: Sendable, Equatable {
    public var list: SuppressionList
    public var record: BlockRecord

    public init(_ list: SuppressionList, _ record: BlockRecord) {
        self.list = list
        self.record = record
    }
}

/// `mail_settings.bypass_*`: which lists one send skips. `bypass_list_management` skips them
/// all; `bypass_bounce_management` the bounce list; `bypass_unsubscribe_management` the global
/// unsubscribes. (`bypass_spam_management` holds trivially: Sealpost keeps no spam reports.)
public struct SuppressionBypass: Sendable, Equatable, Codable {
    public var all = false
    public var bounces = false
    public var unsubscribes = false

    public init(all: Bool = false, bounces: Bool = false, unsubscribes: Bool = false) {
        self.all = all
        self.bounces = bounces
        self.unsubscribes = unsubscribes
    }

    public static let none = SuppressionBypass()

    /// Whether a send with these switches is checked against `list`.
    public func checks(_ list: SuppressionList) -> Bool {
        if all { return false }
        switch list {
        case .blocks: return false
        case .bounces: return !bounces
        case .unsubscribes: return !unsubscribes
        case .invalidEmails: return true
        }
    }

    /// The reason to drop a send to an address on `lists`, or `nil` to send it.
    public func dropReason(_ lists: Set<SuppressionList>) -> String? {
        SuppressionList.suppressing.first { lists.contains($0) && checks($0) }?.dropReason
    }
}
