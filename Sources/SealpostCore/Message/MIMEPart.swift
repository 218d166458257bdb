/// The MIME body of a composed message (RFC 2045/2046), as a tree rendered once at intake.
///
/// The shape SendGrid sends and mail clients expect: `multipart/mixed` holding the body and
/// the attachments; the body a `multipart/alternative` of the text parts (text/plain first,
/// text/html last); inline parts with a Content-ID in a `multipart/related` with the HTML
/// they are referenced from. A level with one part is that part, not a multipart of one.
indirect enum MIMEPart {
    case leaf(headers: [HeaderField], body: String)
    case multipart(subtype: String, boundary: String, parts: [MIMEPart])

    static func tree(for request: MailRequest, boundarySeed: String) -> MIMEPart {
        var level = 0
        func boundary() -> String {
            level += 1
            return "sealpost-\(boundarySeed)-\(level)"
        }
        // SendGrid's order, which mail clients expect of multipart/alternative (the last part
        // they can show wins): text/plain first, text/html last, any other type between them
        // in the order given. A type given twice is kept twice: nothing a request holds is dropped.
        let plain = request.content.filter { $0.type.lowercased() == "text/plain" }
        let html = request.content.filter { $0.type.lowercased() == "text/html" }
        let others = request.content.filter { !["text/plain", "text/html"].contains($0.type.lowercased()) }
        var texts = (plain + others + html).map(text)
        let inline = request.attachments.filter { $0.disposition == .inline && $0.contentID != nil }
        var attached = request.attachments.filter { !($0.disposition == .inline && $0.contentID != nil) }.map(attachment)
        if !inline.isEmpty {
            if !html.isEmpty {
                // The last part is the HTML: it and the images it names by cid: go together.
                let htmlPart = texts.removeLast()
                texts.append(.multipart(subtype: "related", boundary: boundary(), parts: [htmlPart] + inline.map(attachment)))
            } else {
                // No HTML to reference them: they stay in the message as inline parts.
                attached = inline.map(attachment) + attached
            }
        }
        let body = texts.count == 1 ? texts[0] : .multipart(subtype: "alternative", boundary: boundary(), parts: texts)
        return attached.isEmpty ? body : .multipart(subtype: "mixed", boundary: boundary(), parts: [body] + attached)
    }

    static func text(_ content: MailContent) -> MIMEPart {
        let (cte, encoded) = MessageComposer.encodeBody(content.value)
        return .leaf(
            headers: [
                HeaderField("Content-Type", [.init(content.type + ";"), .init("charset=utf-8")]),
                HeaderField("Content-Transfer-Encoding", [.init(cte)]),
            ], body: encoded)
    }

    static func attachment(_ a: MailAttachment) -> MIMEPart {
        var headers = [
            HeaderField("Content-Type", [.init(a.type)] + ExtendedParameter.words("name", a.filename)),
            HeaderField("Content-Disposition", [.init(a.disposition.rawValue)] + ExtendedParameter.words("filename", a.filename)),
            HeaderField("Content-Transfer-Encoding", [.init("base64")]),
        ]
        if let id = a.contentID { headers.append(HeaderField("Content-ID", [.init("<\(id)>")])) }
        return .leaf(headers: headers, body: MessageComposer.base64Lines(a.content))
    }

    /// The part's text. As the message root its header fields join the message's own (after
    /// MIME-Version), then the blank line and the body.
    func rendered(asMessageRoot: Bool = false) -> String {
        switch self {
        case .leaf(let headers, let body):
            return headers.map(\.rendered).joined() + "\r\n" + body + (asMessageRoot ? "" : "\r\n")
        case .multipart(let subtype, let boundary, let parts):
            var out = HeaderField("Content-Type", [.init("multipart/\(subtype);"), .init("boundary=\"\(boundary)\"")]).rendered + "\r\n"
            for part in parts { out += "--\(boundary)\r\n" + part.rendered() }
            out += "--\(boundary)--\r\n"
            return out
        }
    }
}
