import FuzzDriver
import GatehouseCore

// Any bytes as a token (and as JSON), checked against a fixed key set: must never trap.
let keys = try! KeySet.parse(
    Array(
        """
        {"keys":[{"kty":"oct","kid":"k","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"},
         {"kty":"EC","crv":"P-256","kid":"e","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}
        """.utf8), source: "fuzz")
let requirements = TokenRequirements(issuers: ["joe"], audiences: nil, algorithms: Set(JWSAlgorithm.allCases))
let cache = TokenCache(capacity: 64)

fuzz { bytes in
    _ = TokenVerifier.verify(
        String(decoding: bytes, as: UTF8.self), keys: keys, requirements: requirements,
        now: 1_300_819_000, cache: cache)
    _ = JSON.parse(Array(bytes))
}
