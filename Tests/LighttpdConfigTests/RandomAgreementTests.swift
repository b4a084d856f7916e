import Foundation
import Testing

@testable import LighttpdConfig

/// Random token soup, read by lighttpd and by the reader: both accept it or both refuse it, and what
/// both accept they read alike. This is where lighttpd's silent dropping of unusable tokens shows.
@Suite(.enabled(if: LighttpdBinary.isInstalled, "needs /usr/sbin/lighttpd"))
struct RandomAgreementTests {
    /// Whole statements, block openers and closers, and loose tokens in between.
    static let fragments = [
        #"x = "s""#, "y.z += 1", #"gatehouse.realm := "t""#, #"x = ( "a", "k" => "v" )"#, "y.z = x",
        #"$HTTP["url"] == "/a" {"#, #"$HTTP["host"] =~ "^w" {"#, #"$HTTP["url"] =~ "^/m/" {"#, "global {",
        "}", "}", "} else {", "else", "{", "\n", "\n", "\n", "# note\n",
        "x", "=", "+", #""s""#, "1", "]", ",", "env.PATH", "y.z",
    ]

    /// SplitMix64: the same sequence on every run.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test(arguments: 0..<8)
    func randomConfigurations(_ batch: Int) throws {
        var random = Generator(state: UInt64(batch) &* 7919)
        var accepted = 0
        for _ in 0..<40 {
            let count = Int.random(in: 2...10, using: &random)
            let text = (0..<count).map { _ in Self.fragments.randomElement(using: &random)! }.joined(separator: " ")
            let path = try LighttpdAgreementTests.write(text)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let lighttpd = try LighttpdBinary.printed(path)
            let ours = Result { try LighttpdConfig.load(path: path, environment: testEnvironment) }
            switch ours {
            case .success(let config):
                #expect(lighttpd.status == 0, "lighttpd refuses, the reader accepts:\n\(text)\n\(lighttpd.errors)")
                if lighttpd.status == 0 {
                    accepted += 1
                    #expect(LighttpdBinary.withoutProcessVariables(config.printed) == lighttpd.output, "\(text)")
                }
            case .failure(let error):
                #expect(lighttpd.status != 0, "the reader refuses (\(error)), lighttpd accepts:\n\(text)")
            }
        }
        #expect(accepted >= 3, "only \(accepted) accepted: the soup tests little")
    }
}
