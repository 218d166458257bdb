import Foundation

/// Internationalised domain names as A-labels (IDNA2008, RFC 5890/5891), the only form DNS
/// and an SMTP envelope without SMTPUTF8 can carry.
///
/// Sealpost maps a U-label the way IDNA2008 registrations are written in practice: Unicode
/// NFC, lower case, the ideographic full stops as dots; then each label must be letters,
/// marks and digits (and inner hyphens), not start with a mark, and fit 63 octets once
/// Punycode-encoded. That is stricter than a browser's UTS #46 processing (no symbols, no
/// compatibility mapping): a domain Sealpost cannot be sure of is refused, never guessed at.
public enum IDNA {
    /// The A-label form of `domain`, or nil when it is not a valid (internationalised) domain.
    /// An ASCII domain is returned unchanged except that every `xn--` label must decode.
    public static func toASCII(_ domain: String) -> String? {
        let dotted = domain.replacingOccurrences(of: "\u{3002}", with: ".").replacingOccurrences(of: "\u{FF0E}", with: ".")
            .replacingOccurrences(of: "\u{FF61}", with: ".")
        let labels = dotted.split(separator: ".", omittingEmptySubsequences: false)
        guard !labels.isEmpty else { return nil }
        var out: [String] = []
        for label in labels {
            guard let a = aLabel(String(label)) else { return nil }
            out.append(a)
        }
        let result = out.joined(separator: ".")
        return result.utf8.count <= 253 ? result : nil
    }

    static func aLabel(_ label: String) -> String? {
        guard !label.isEmpty else { return nil }
        if label.unicodeScalars.allSatisfy(\.isASCII) {
            guard label.utf8.count <= 63 else { return nil }
            if label.lowercased().hasPrefix("xn--") {
                // An A-label given as such must be one: decodable, and not plain ASCII inside.
                guard let decoded = Punycode.decode(String(label.dropFirst(4))),
                    !decoded.unicodeScalars.allSatisfy(\.isASCII), uLabelIsValid(decoded)
                else { return nil }
            }
            return label
        }
        let mapped = label.precomposedStringWithCanonicalMapping.lowercased()
        guard uLabelIsValid(mapped), let encoded = Punycode.encode(mapped) else { return nil }
        let a = "xn--" + encoded
        return a.utf8.count <= 63 ? a : nil
    }

    /// Letters, marks, digits and hyphens; no leading mark, no hyphen at either end, and no
    /// "--" in the third and fourth positions (reserved for A-labels, RFC 5891 §4.2.3.1).
    static func uLabelIsValid(_ label: String) -> Bool {
        let scalars = Array(label.unicodeScalars)
        guard let first = scalars.first, let last = scalars.last, first != "-", last != "-" else { return false }
        if scalars.count >= 4, scalars[2] == "-", scalars[3] == "-" { return false }
        if isMark(first) { return false }
        return scalars.allSatisfy { s in
            if s.isASCII { return ("a"..."z").contains(s) || ("0"..."9").contains(s) || s == "-" }
            switch s.properties.generalCategory {
            case .lowercaseLetter, .otherLetter, .modifierLetter, .nonspacingMark, .spacingMark, .decimalNumber: return true
            default: return false
            }
        }
    }

    static func isMark(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: true
        default: false
        }
    }
}

/// Punycode (RFC 3492), the bootstring encoding behind A-labels.
public enum Punycode {
    static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700, initialBias = 72, initialN = 128

    static func adapt(_ delta: Int, _ points: Int, _ first: Bool) -> Int {
        var d = first ? delta / damp : delta / 2
        d += d / points
        var k = 0
        while d > ((base - tMin) * tMax) / 2 {
            d /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * d / (d + skew)
    }

    static func digit(_ d: Int) -> Character {
        Character(Unicode.Scalar(UInt8(d < 26 ? 97 + d : 22 + d)))
    }

    static func value(of c: Unicode.Scalar) -> Int? {
        switch c.value {
        case 48...57: Int(c.value) - 22
        case 65...90: Int(c.value) - 65
        case 97...122: Int(c.value) - 97
        default: nil
        }
    }

    static func threshold(_ k: Int, _ bias: Int) -> Int {
        k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
    }

    /// The Punycode of `input` (without the `xn--` prefix), or nil on overflow.
    public static func encode(_ input: String) -> String? {
        let scalars = input.unicodeScalars.map { Int($0.value) }
        var output = String(String.UnicodeScalarView(input.unicodeScalars.filter(\.isASCII)))
        let basic = output.unicodeScalars.count
        var handled = basic
        if basic > 0 { output.append("-") }
        var n = initialN, delta = 0, bias = initialBias
        while handled < scalars.count {
            guard let m = scalars.filter({ $0 >= n }).min() else { return nil }
            let (step, overflow) = (m - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow, delta <= Int(Int32.max) - step else { return nil }
            delta += step
            n = m
            for c in scalars {
                if c < n { delta += 1 }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = threshold(k, bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basic)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return output
    }

    /// The Unicode text of a Punycode string, or nil when it is not valid Punycode.
    public static func decode(_ input: String) -> String? {
        let scalars = Array(input.unicodeScalars)
        guard scalars.allSatisfy(\.isASCII) else { return nil }
        var output: [Unicode.Scalar] = []
        var start = 0
        if let dash = scalars.lastIndex(of: "-") {
            output = Array(scalars[..<dash])
            start = dash + 1
        }
        var n = initialN, i = 0, bias = initialBias, position = start
        while position < scalars.count {
            let oldI = i
            var w = 1
            var k = base
            while true {
                guard position < scalars.count, let d = value(of: scalars[position]) else { return nil }
                position += 1
                let (dw, o1) = d.multipliedReportingOverflow(by: w)
                guard !o1, i <= Int(Int32.max) - dw else { return nil }
                i += dw
                let t = threshold(k, bias)
                if d < t { break }
                let (nw, o2) = w.multipliedReportingOverflow(by: base - t)
                guard !o2, nw <= Int(Int32.max) else { return nil }
                w = nw
                k += base
            }
            let count = output.count + 1
            bias = adapt(i - oldI, count, oldI == 0)
            n += i / count
            i %= count
            guard n <= 0x10FFFF, let scalar = Unicode.Scalar(UInt32(n)), !scalar.isASCII else { return nil }
            output.insert(scalar, at: i)
            i += 1
        }
        return String(String.UnicodeScalarView(output))
    }
}
