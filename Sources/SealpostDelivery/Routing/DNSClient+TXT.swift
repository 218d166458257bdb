import SealpostCore

/// The API's view of the resolver (domain validation looks up DKIM records through it, never
/// from the cache: the owner may have just published the record).
extension DNSClient: TXTResolving {
    public func txt(_ name: String) async -> Result<[String], TXTLookupError> {
        let answer = await query(name, type: Self.typeTXT, cached: false)
        switch answer.status {
        case .records: return .success(answer.records.map { Self.txt($0.rdata) })
        case .noData, .nxDomain: return .success([])
        case .failure(let why): return .failure(TXTLookupError(why))
        }
    }
}
