import Testing

@testable import GatehouseCore

@Suite("The verified-token cache")
struct TokenCacheTests {
    let now = Fixtures.tokens.now

    func verify(
        _ name: String, cache: TokenCache, keys: KeySet = Fixtures.keys,
        requirements: TokenRequirements = Fixtures.requirements, at time: Int64? = nil
    ) -> TokenError? {
        TokenVerifier.verify(
            Fixtures.token(named: name), keys: keys, requirements: requirements, now: time ?? now,
            cache: cache
        ).failure
    }

    @Test func theSameTokenAgainIsAnsweredFromTheCache() {
        let cache = TokenCache(capacity: 10)
        #expect(verify("RS256", cache: cache) == nil)
        #expect(verify("RS256", cache: cache) == nil)
        #expect(verify("ES256", cache: cache) == nil)
        #expect(cache.hits == 1 && cache.misses == 2 && cache.count == 2)
    }

    @Test func refusedTokensAreNotCached() {
        let cache = TokenCache(capacity: 10)
        #expect(verify("signed by another key", cache: cache)?.code == .badSignature)
        #expect(verify("expired", cache: cache)?.code == .expired)
        #expect(cache.count == 0)
    }

    @Test func aCachedTokenStillMeetsEachContextsRequirements() {
        let cache = TokenCache(capacity: 10)
        #expect(verify("RS256", cache: cache) == nil)
        var other = Fixtures.requirements
        other.audiences = ["another-api"]
        #expect(verify("RS256", cache: cache, requirements: other)?.code == .wrongAudience)
        other = Fixtures.requirements
        other.algorithms = [.es256]
        #expect(verify("RS256", cache: cache, requirements: other)?.code == .algorithmNotAllowed)
        #expect(cache.hits == 2)
    }

    @Test func anEntryNeverOutlivesItsExpiry() {
        let cache = TokenCache(capacity: 10)
        #expect(verify("RS256", cache: cache) == nil)  // exp = now + 600
        #expect(verify("RS256", cache: cache, at: now + 600)?.code == nil)  // within the leeway: verified again
        #expect(cache.hits == 0)
        #expect(verify("RS256", cache: cache, at: now + 700)?.code == .expired)
    }

    @Test func anEntryCountsOnlyWithTheKeyThatVerifiedIt() throws {
        let cache = TokenCache(capacity: 10)
        #expect(verify("RS256", cache: cache) == nil)
        let reloaded = try KeySet.load(path: Fixtures.path("jwks.json"))  // same keys, new objects
        #expect(verify("RS256", cache: cache, keys: reloaded) == nil)
        #expect(cache.hits == 0 && cache.misses == 2)
        let withoutIt = KeySet(keys: Fixtures.keys.keys.filter { $0.id != "rsa-1" })
        #expect(verify("RS256", cache: cache, keys: withoutIt)?.code == .unknownKey)
    }

    @Test func theCacheIsBoundedAndEvictsTheOldest() {
        let cache = TokenCache(capacity: 2)
        for name in ["RS256", "ES256", "EdDSA"] { #expect(verify(name, cache: cache) == nil) }
        #expect(cache.count == 2)
        #expect(verify("RS256", cache: cache) == nil)  // evicted: a miss
        #expect(verify("EdDSA", cache: cache) == nil)  // still there: a hit
        #expect(cache.hits == 1 && cache.misses == 4)
    }

    @Test func aZeroCapacityCacheCachesNothing() {
        let cache = TokenCache(capacity: 0)
        #expect(verify("RS256", cache: cache) == nil && verify("RS256", cache: cache) == nil)
        #expect(cache.count == 0 && cache.hits == 0)
    }
}
