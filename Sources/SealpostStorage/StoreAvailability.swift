import Foundation
import SealpostCore

/// A backend error that says the database cannot be used right now (the server restarts, the
/// connection broke, the file is locked or the disk full), as opposed to a bug. The API answers
/// these with 503 and `Retry-After` in SendGrid's error shape instead of a 500, and nothing
/// was accepted: the client may retry. Each backend conforms its library's error type.
public protocol StoreAvailabilityError: Error {
    var meansStoreUnavailable: Bool { get }
}

extension StoreError: StoreAvailabilityError {
    public var meansStoreUnavailable: Bool {
        if case .unavailable = self { return true }
        return false
    }
}

/// Whether `error`, or the error it wraps, is a store that cannot be used right now.
public func isStoreUnavailable(_ error: any Error) -> Bool {
    (error as? any StoreAvailabilityError)?.meansStoreUnavailable ?? false
}
