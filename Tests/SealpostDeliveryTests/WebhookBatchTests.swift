import PropertyBased
import Testing

@testable import SealpostCore
@testable import SealpostDelivery
@testable import SealpostSMTP
@testable import SealpostStorage

/// Size-bounded POSTs of the Event Webhook: order kept, every event once, each JSON array
/// within the bound (an event larger than the bound alone).
@Suite struct WebhookBatchTests {
    @Test(arguments: [10, 100, 1000, 50_000])
    func splitKeepsOrderAndBound(maxBytes: Int) {
        var generator = Xoshiro(seed: (20_261_202, 0x9E37_79B9_7F4A_7C15, 1, 2))
        print("WebhookBatchTests seed 20261202, maxBytes \(maxBytes)")
        let events = (0..<500).map { i in
            (id: Int64(i), payload: "{\"n\":\"" + String(repeating: "x", count: Int.random(in: 0...300, using: &generator)) + "\"}")
        }
        let batches = WebhookPoster.split(WebhookBatch(userID: 7, url: "http://r", events: events), maxBytes: maxBytes)
        #expect(batches.flatMap { $0.events.map(\.id) } == events.map(\.id))
        for batch in batches {
            let json = "[" + batch.events.map(\.payload).joined(separator: ",") + "]"
            #expect(json.utf8.count <= maxBytes || batch.events.count == 1)
            #expect(batch.userID == 7 && batch.url == "http://r")
        }
        if maxBytes >= 50_000 { #expect(batches.count < 5) }
    }
}
