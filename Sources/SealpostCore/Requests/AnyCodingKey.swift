/// A coding key made from any string: for JSON objects whose keys are data (custom args, the
/// per-event webhook switches) rather than a fixed list.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
