import Foundation

/// libFuzzer harness: the input is an HTTP request body. It goes through the decoders and
/// validators the routes use (`EnforcedTLSPatchBody`, the management bodies, `MailSendBody` and
/// `MailRequestValidator`, `MessageComposer` with its folding and encoded-words).
/// Whatever the bytes, each must either fail with field errors in SendGrid's shape or give a
/// value that keeps the promises the delivery engine relies on.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestBodies(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Data(UnsafeBufferPointer(start: data, count: size))
    let decoder = JSONDecoder()

    if let patch = try? decoder.decode(EnforcedTLSPatchBody.self, from: body) {
        do {
            let valid = try patch.validated()
            if let version = valid.version { precondition(["1.1", "1.2", "1.3"].contains(version.rawValue)) }
        } catch {
            checkShape(error.errors, fields: ["require_tls", "require_valid_cert", "version"])
        }
    }

    // The management bodies: a refusal names only their own fields; what passes keeps its bounds.
    if let key = try? decoder.decode(CreateAPIKeyBody.self, from: body) {
        do {
            let valid = try key.validated()
            precondition(!valid.name.isEmpty && valid.name.count <= CreateAPIKeyBody.maxNameLength)
            precondition(valid.scopes?.allSatisfy(Scope.isKnown) ?? true)
        } catch {
            checkShape(error.errors, fields: ["name", "scopes"])
        }
    }
    if let subuser = try? decoder.decode(CreateSubuserBody.self, from: body) {
        do {
            let valid = try subuser.validated()
            precondition(UserName.validationError(valid.username) == nil && CreateSubuserBody.looksLikeEmail(valid.email))
        } catch {
            checkShape(error.errors, fields: ["username", "email", "password", "ips"])
        }
    }
    if let hook = try? decoder.decode(WebhookSettingsPatchBody.self, from: body) {
        do {
            let settings = try hook.applied(to: WebhookSettings())
            precondition(!settings.enabled || WebhookSettingsPatchBody.isHTTPURL(settings.url))
        } catch {
            checkShape(error.errors, fields: Set(["enabled", "url"] + WebhookSettings.eventNames))
        }
    }

    guard let object = try? decoder.decode(MailSendBody.self, from: body) else { return 0 }
    do {
        let mail = try MailRequestValidator.validate(object, maxRecipients: 1000)
        precondition(MailRequestValidator.isValidAddress(mail.from.email))
        var recipients = 0
        let composer = MessageComposer(heloName: "fuzz.sealpost.test")
        for p in mail.personalizations {
            for address in p.to + p.cc + p.bcc { precondition(MailRequestValidator.isValidAddress(address.email)) }
            recipients += p.recipients.count
            let names = Set(mail.headers.keys).union(p.headers.keys)
            checkHeaderSection(
                composer.compose(mail, personalization: p, messageID: "fuzz", dateHeader: "Sat, 28 Nov 2026 06:00:00 +0000"),
                custom: names)
        }
        precondition(recipients >= 1 && recipients <= 1000)
        precondition(!mail.content.isEmpty && mail.content.allSatisfy { !$0.value.isEmpty })
    } catch {
        checkShape(error.errors, fields: nil)
    }
    return 0
}

/// A refusal names at least one problem, each with a message, and encodes to SendGrid's shape.
private func checkShape(_ errors: [FieldError], fields: Set<String>?) {
    precondition(!errors.isEmpty, "a refusal without errors")
    for e in errors {
        precondition(!e.message.isEmpty, "an error without a message")
        if let fields, let field = e.field { precondition(fields.contains(field), "unknown field \(field)") }
    }
    let encoded = try! JSONEncoder().encode(["errors": errors])
    precondition(String(decoding: encoded, as: UTF8.self).hasPrefix(#"{"errors":[{"#))
}

/// The composed message's header section holds only well-formed `Name: value` lines with the
/// composer's own names or the request's custom ones: no field of a request can add a header
/// (Bcc above all) or end the header section early.
private func checkHeaderSection(_ message: [UInt8], custom: Set<String>) {
    let text = String(decoding: message, as: UTF8.self)
    guard let end = text.range(of: "\r\n\r\n") else { preconditionFailure("no header section end") }
    let own: Set<String> = [
        "From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID", "MIME-Version",
        "Content-Type", "Content-Transfer-Encoding",
    ]
    for line in text[..<end.lowerBound].components(separatedBy: "\r\n") {
        precondition(line.utf8.count <= 998, "header line over 998 octets (RFC 5322 §2.1.1)")
        if line.hasPrefix(" ") {
            // A folded continuation: white space, then something (never a line of only white space).
            precondition(line.contains { $0 != " " && $0 != "\t" }, "a folded line of only white space")
            precondition(!line.unicodeScalars.contains { $0 == "\r" || $0 == "\n" }, "line break inside a header")
            continue
        }
        guard let colon = line.firstIndex(of: ":") else { preconditionFailure("header line without a colon: \(line.prefix(80))") }
        let name = String(line[..<colon])
        precondition(!name.isEmpty && name.utf8.allSatisfy { $0 >= 33 && $0 <= 126 }, "malformed header name: \(name.prefix(80))")
        precondition(own.contains(name) || custom.contains(name), "header not asked for: \(name.prefix(80))")
        precondition(!line.unicodeScalars.contains { $0 == "\r" || $0 == "\n" }, "line break inside a header")
    }
}
