import FuzzDriver
import LighttpdConfig

// Any bytes as a lighttpd.conf (no includes, no shell): parsed, then evaluated for a request.
fuzz { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    if let config = try? LighttpdConfig.parse(text, path: "/nonexistent/fuzz.conf", allowShell: false, environment: [:])
    {
        _ = config.directives(for: RequestFacts(path: "/api/x", host: "example.test"), prefix: "")
    }
}
