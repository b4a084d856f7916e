import Foundation
import Testing

@testable import LighttpdConfig

@Suite("Values given for var. from outside (gatehouse --define)")
struct DefineTests {
    @Test func aDefineWinsOverTheFilesAssignment() throws {
        let path = NSTemporaryDirectory() + "define-\(getpid()).conf"
        try #"""
        var.keys = "/etc/lighttpd/gatehouse"
        gatehouse.jwks = var.keys + "/jwks.json"
        gatehouse.realm = var.ci_realm

        """#.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = try LighttpdConfig.load(
            path: path, environment: testEnvironment, defines: ["var.keys": "/tmp/test-keys", "var.ci_realm": "ci"])
        #expect(value(config, "gatehouse.jwks") == #""/tmp/test-keys/jwks.json""#)
        #expect(value(config, "gatehouse.realm") == #""ci""#)
        #expect(throws: LighttpdConfigError.self) { try LighttpdConfig.load(path: path, environment: testEnvironment) }
    }
}
