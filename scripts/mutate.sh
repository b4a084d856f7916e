#!/usr/bin/env bash
# Mutation test of the security code: each mutant below is one small bug (an exact text
# replacement in one file of Sources/GatehouseCore), made one at a time in a copy of the core
# under build/mutate/ (the real tree is never touched), and the core's unit tests must notice
# it. Fails, naming them, when a mutant survives or when a mutant's text is no longer in its
# file (so the list cannot rot silently). Prints `mutants: N killed, M survived`.
#
#   bash scripts/mutate.sh            every mutant
#   bash scripts/mutate.sh 3 7        only mutants 3 and 7 (numbered from 1, as printed)
#
# With GATEHOUSE_SWIFT_LOCK=/path set, each swift invocation holds that flock(1) lock.
set -euo pipefail
cd "$(dirname "$0")/.."

# FILE (under Sources/GatehouseCore) @@ TEXT @@ REPLACEMENT. Each TEXT must occur exactly once.
mutants=(
    'Verify/TokenFacts.swift@@if now >= expiry + leeway {@@if now > expiry + leeway {'
    'Verify/TokenFacts.swift@@now + leeway < notBefore@@now < notBefore'
    'Verify/TokenFacts.swift@@if let issuedAt, issuedAt > now + leeway {@@if let issuedAt, issuedAt >= now + leeway {'
    'Verify/TokenFacts.swift@@now - issuedAt > Double(maxAge) + leeway@@now - issuedAt >= Double(maxAge) + leeway'
    'Claims/VerifiedClaims.swift@@if let first, first.settings === settings { return first }@@if let first { return first }'
    'Claims/VerifiedClaims.swift@@if let known = others.first(where: { $0.settings === settings }) { return known }@@if let known = others.first { return known }'
    'SignIn/SignIn.swift@@verified = VerifiedClaims(fresh.claims)@@_ = fresh'
    'Verify/TokenCache.swift@@keys.keys.contains(where: { $0 === entry.key }), entry.keeps(names)@@keys.keys.contains(where: { $0 === entry.key })'
    'Claims/ClaimNames.swift@@return wanted.allSatisfy(contains)@@return wanted.contains(where: contains)'
    'Claims/ClaimNames.swift@@if audited { names += ["iss", "jti"] }@@if audited { names += ["iss"] }'
    'Claims/ClaimNames.swift@@case .claim(let path): names.append(path.components[0])@@case .claim: break'
    'Verify/TokenFacts.swift@@case "exp", "nbf", "iat", "iss", "aud": true@@case "exp", "nbf", "iat", "iss": true'
    'Verify/TokenVerifier.swift@@read.members.filter { kept.contains($0.key) }@@read.members'
    'Token/JSONReader.swift@@if repeated { throw error("a member name is repeated") }@@_ = repeated'
    'Token/JSONReader.swift@@if JSONReader.repeats(names) { throw error("a member name is repeated") }@@_ = names'
    'Token/JSONReader.swift@@if byte < 0x20 { throw error("control character in a string") }@@if byte < 0x0A { throw error("control character in a string") }'
    'Token/JSONReader.swift@@high = 0x9F@@high = 0xBF'
    'Token/JSONReader.swift@@low = 0xA0@@low = 0x80'
    'Token/JSONReader.swift@@case 0: throw error("\\u0000 in a string")@@case 0: return 0'
    'Token/JSONReader.swift@@guard (0xDC00...0xDFFF).contains(second) else { throw error("a lone surrogate escape") }@@'
    'Token/JSONReader.swift@@if first != UInt8(ascii: "0") { skipDigits() }@@skipDigits()'
    'Token/JSONReader.swift@@guard reader.position == bytes.count else { throw reader.error("end of text expected") }@@'
    'Token/JSONReader.swift@@guard magnitude <= UInt64(Int64.max) else@@guard magnitude <= UInt64.max else'
    'Token/JSONReader.swift@@guard depth <= JSON.maximumDepth else@@guard depth <= JSON.maximumDepth + 1 else'
    'Verify/TokenVerifier.swift@@guard case .string(let typ)? = type, sameMediaType(typ, required) else {@@if case .string(let typ)? = type, !sameMediaType(typ, required) {'
    'Verify/VerificationKey.swift@@if let own = self.algorithm, own != algorithm { return false }@@if let own = self.algorithm, own.family != algorithm.family { return false }'
    'Verify/VerificationKey.swift@@static let minimumRSABits = 2048@@static let minimumRSABits = 1024'
    'OffLoop/SignatureJobs.swift@@let settled = job.settled, job.flight.token.sameBytes(token),@@let settled = job.settled,'
    'OffLoop/SignatureJobs.swift@@entry.facts.check(requirements, now: now).map { .failure($0) } ?? .success(entry)@@.success(entry)'
    'OffLoop/SignatureJobs.swift@@job.waiters -= 1@@job.waiters -= 2'
    'OffLoop/SignatureJobs.swift@@if let resumed, jobs[resumed]?.settled == nil, !pool.isForked { return .unsettled }@@if let resumed, jobs[resumed] == nil, !pool.isForked { return .unsettled }'
    'OffLoop/SignatureJobs.swift@@if !pool.started { pool.start() }@@_ = pool.started'
    'Token/Algorithm.swift@@JWSAlgorithm.allCases.first(where: { $0.rawValue.sameBytes(name) })@@JWSAlgorithm.allCases.first(where: { $0.rawValue.uppercased() == name.uppercased() })'
    'Verify/KeySet.swift@@private static let privateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth"]@@private static let privateMembers = ["p", "q", "dp", "dq", "qi", "oth"]'
    'Verify/KeySet.swift@@if let use = jwk["use"]?.stringValue, use != "sig" {@@if let use = jwk["use"]?.stringValue, use == "" {'
    'Verify/KeySet.swift@@if let kid = key.id, keys.contains(@@if let kid = key.id, kid.isEmpty, keys.contains('
    'Verify/KeySet.swift@@guard !keys.isEmpty else {@@guard !keys.isEmpty || !skipped.isEmpty else {'
    'Verify/KeySet.swift@@return (key.accepts(algorithm) ? [key] : [], true)@@return (key.accepts(algorithm) ? [key] : [], false)'
    'Verify/KeySet.swift@@(kid == nil || $0.id == nil) && $0.accepts(algorithm)@@$0.accepts(algorithm)'
    'Policy/Expression.swift@@if a == .no { return .no }@@if a != .unknown { return a }'
    'Policy/Expression.swift@@if a == .yes { return .yes }@@if a != .unknown { return a }'
    'Policy/Expression.swift@@case .no: return .yes
            case .unknown: return .unknown@@case .no: return .yes
            case .unknown: return .yes'
    'Policy/Coverage.swift@@[left, right] + left.branches + right.branches@@[left, right]'
    'Policy/Coverage.swift@@self.rule = rule@@self.rule = ""'
    'Policy/Expression.swift@@return list.contains { Comparison.equal(a, $0) }@@return list.contains { Comparison.contains.holds($0, a) }'
    'Policy/Expression.swift@@return Comparison.substring(Array(part.utf8), of: text)@@return Comparison.equal(a, b)'
    'Policy/Expression.swift@@guard let a, let b else { return false }@@guard let a, let b else { return self == .notEqual }'
    'Policy/Expression.swift@@whole.reversed().starts(with: piece.reversed())@@whole.reversed().starts(with: piece)'
    'Policy/PathPattern.swift@@guard end > offset else { return nil }@@guard end >= offset else { return nil }'
    'Policy/PathPattern.swift@@offset == path.count || path[offset] == UInt8(ascii: "/")@@offset <= path.count'
    'Policy/IPNetwork.swift@@if bytes[index] & mask != other[index] & mask { return false }@@if bytes[index] & mask != other[index] & mask, index == 0 { return false }'
    'Config/Directives.swift@@return text == "report-only"@@return text == "report-only" || text == "enforce"'
    'Config/Directives.swift@@try input.wholeNumber(in: 0...86_400, expected: "seconds from 0 to 86400")@@try input.wholeNumber(in: 0...86_400, expected: "seconds from 0 to 86400") + 1'
    'Config/Directives.swift@@try input.quotable(orFail: input.fail("a media type such as \"at+jwt\""))@@_ = try input.quotable(orFail: input.fail("a media type such as \"at+jwt\"")); return nil'
    'Config/Setting.swift@@if inCondition, directive.isServerWide {@@if inCondition, !directive.isServerWide {'
    'Config/Configuration.swift@@strippedHeaders = headers.map(\.name) + extraStrippedHeaders@@strippedHeaders = headers.map(\.name)'
    'Verdict/Gate+Verdict.swift@@if rule.expression.evaluate(anonymous, trace: &ignored) == .yes {@@if rule.expression.evaluate(anonymous, trace: &ignored) != .no {'
    'Verdict/Gate+Limit.swift@@"sub:\(issuer.utf8.count):\(issuer)\($0)"@@"sub:\($0)"'
    'Verdict/Gate+Verdict.swift@@status: error.code == .claimTypeMismatch ? 403 : 401@@status: 403'
    'Verdict/Gate+Verdict.swift@@status: error.code == .claimTypeMismatch ? 403 : 401@@status: 401'
    'Verdict/Gate+Authenticate.swift@@if let mismatch = derived?.mismatch {@@if let mismatch = derived?.mismatch, presented != nil {'
    'Claims/ClaimsSchema.swift@@!type.admits(value) else { continue }@@!type.admits(value) else { return nil }'
    'Claims/ClaimsSchema.swift@@case (.arrayOfStrings, .array(let elements)): elements.allSatisfy { ClaimType.string.admits($0) }@@case (.arrayOfStrings, .array): true'
    'Claims/ClaimsSchema.swift@@(.integer, .integer), (.number, .integer)@@(.integer, .integer), (.integer, .real), (.number, .integer)'
    'Policy/ClaimsSchema+Rules.swift@@guard let a, let b, a != b, let subject = about(left) ?? about(right) else { return nil }@@guard let a, let b, a != b, let subject = about(left) else { return nil }'
    'Policy/PolicyParser.swift@@if let problem = schema?.problem(left, comparison, right) {
            throw PolicyError(problem, in: text, at: operatorStart)@@if let problem = schema?.problem(left, comparison, right) {
            throw PolicyError(problem, in: text, at: start)'
    'Claims/IdentityField.swift@@if text.utf8.first == 0x20 || text.utf8.last == 0x20 {@@if text.utf8.first == 0x20 {'
    'Claims/IdentityField.swift@@try IdentityField.checkSafe(text, list: isList, field: self)@@try IdentityField.checkSafe(text, list: false, field: self)'
    'Runtime/RateLimiter.swift@@if level >= 1, level / bucket.full > best?.share ?? 0 {@@if level / bucket.full > best?.share ?? 0 {'
    'Runtime/RateLimiter.swift@@if level >= bucket.full { return slot }@@if level >= 1 { return slot }'
    'Session/Sealer.swift@@&& EVP_DecryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1@@&& EVP_DecryptUpdate(context, nil, &length, nil, 0) == 1'
    'Session/Cookies.swift@@guard count == 1, let found, !found.isEmpty else { return nil }@@guard count >= 1, let found, !found.isEmpty else { return nil }'
    'SignIn/ReturnTarget.swift@@|| decoded[1] == UInt8(ascii: "\\")))@@))'
    'SignIn/ReturnTarget.swift@@for _ in 0..<3 {@@for _ in 0..<1 {'
    'SignIn/SignIn.swift@@return request.header("Sec-Fetch-Site").map { $0.sameBytes("same-origin") } ?? false@@return request.header("Sec-Fetch-Site").map { !$0.sameBytes("cross-site") } ?? false'
    'SignIn/SignIn.swift@@for index in 0..<x.count { difference |= x[index] ^ y[index] }@@for index in 0..<(x.count / 2) { difference |= x[index] ^ y[index] }'
    'SignIn/CodeExchange.swift@@if audiences.count > 1 && azp == nil {@@if audiences.count > 2 && azp == nil {'
    'SignIn/CodeExchange.swift@@issuedAt >= now - LoginState.lifetime - wanted.leeway@@issuedAt >= now - 86_400'
    'SignIn/CodeExchange.swift@@wanted.audiences = [clientID]@@wanted.audiences = requirements.audiences'
    'SignIn/SessionRefresh.swift@@return !was.sameBytes(now)@@return was.isEmpty'
    'Session/SessionContents.swift@@return now >= refreshAt@@return now > refreshAt'
    'Session/SessionContents.swift@@let at = max(now + max(0, tokenExpires - now) / 2, tokenExpires - window)@@let at = tokenExpires - window'
)

work=build/mutate
copy=$work/src
scratch=$work/scratch
swift_cmd() {
    if [ -n "${GATEHOUSE_SWIFT_LOCK:-}" ]; then flock "$GATEHOUSE_SWIFT_LOCK" swift "$@"; else swift "$@"; fi
}

# The core and its unit tests alone: no CLI, no package to fetch.
rm -rf "$copy"
mkdir -p "$copy/Sources" "$copy/Tests"
cp -R Sources/GatehouseCore Sources/CGatehouse Sources/COpenSSL Sources/CJansson Sources/CPCRE2 Sources/CCurl "$copy/Sources/"
cp -R Tests/GatehouseCoreTests "$copy/Tests/"
cat >"$copy/Package.swift" <<'EOF'
// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "GatehouseMutants",
    targets: [
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto"),
        .systemLibrary(name: "CJansson", pkgConfig: "jansson"),
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8"),
        .systemLibrary(name: "CGatehouse"),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl"),
        .target(name: "GatehouseCore", dependencies: ["COpenSSL", "CPCRE2", "CGatehouse", "CCurl"]),
        .testTarget(name: "GatehouseCoreTests", dependencies: ["GatehouseCore", "CJansson"], exclude: ["Fixtures"]),
    ]
)
EOF

build() { swift_cmd build --package-path "$copy" --scratch-path "$scratch" --build-tests >"$work/build.log" 2>&1; }
unit_tests() { swift_cmd test --package-path "$copy" --scratch-path "$scratch" --skip-build >"$work/test.log" 2>&1; }

# Replaces the one occurrence of $2 in file $1 by $3; status 2 when $2 is not there exactly once.
replace() {
    python3 - "$@" <<'EOF'
import sys
path, text, replacement = sys.argv[1:]
source = open(path).read()
if source.count(text) != 1:
    sys.exit(2)
open(path, "w").write(source.replace(text, replacement))
EOF
}

start=$SECONDS
build || { cat "$work/build.log"; echo "mutate: the unmutated core does not build" >&2; exit 1; }
unit_tests || { cat "$work/test.log"; echo "mutate: the unit tests fail without any mutant" >&2; exit 1; }

selected=("$@")
killed=0
survivors=()
for index in "${!mutants[@]}"; do
    number=$((index + 1))
    if [ ${#selected[@]} -gt 0 ] && [[ ! " ${selected[*]} " == *" $number "* ]]; then continue; fi
    entry=${mutants[$index]}
    file=${entry%%@@*}
    rest=${entry#*@@}
    text=${rest%%@@*}
    replacement=${rest#*@@}
    target="$copy/Sources/GatehouseCore/$file"
    label="#$number $file: $(head -n1 <<<"$text")"
    cp "$target" "$work/original"
    if ! replace "$target" "$text" "$replacement"; then
        survivors+=("$label (its text is not in the file exactly once: update the list)")
        echo "mutant $label: TEXT NOT FOUND"
        continue
    fi
    if ! build; then
        survivors+=("$label (does not compile: a mutant must be a bug, not a syntax error)")
        echo "mutant $label: DOES NOT COMPILE"
    elif unit_tests; then
        survivors+=("$label")
        echo "mutant $label: SURVIVED"
    else
        killed=$((killed + 1))
        echo "mutant $label: killed"
    fi
    cp "$work/original" "$target"
done

echo "mutants: $killed killed, ${#survivors[@]} survived ($((SECONDS - start)) s)"
if [ ${#survivors[@]} -gt 0 ]; then
    printf '  survived: %s\n' "${survivors[@]}"
    exit 1
fi
