internal import COpenSSL

/// Seals and opens cookie values with AES-256-GCM (NIST SP 800-38D): a fresh random 12-byte
/// nonce per seal, the cookie's name as associated data (a value sealed for one cookie never
/// opens as another), and a key id byte so the right key of a rotation is tried first.
///
///     value = base64url( key id (1) | nonce (12) | ciphertext | tag (16) )
public enum Sealer {
    static let nonceLength = 12
    static let tagLength = 16

    /// The key id: the first byte of SHA-256 of the key (the same on every node of a fleet,
    /// whatever the order of its key file).
    static func keyID(_ key: [UInt8]) -> UInt8 {
        var digest = [UInt8](repeating: 0, count: 32)
        _ = key.withUnsafeBufferPointer { SHA256($0.baseAddress, $0.count, &digest) }
        return digest[0]
    }

    /// Random bytes from OpenSSL's generator; nil if it fails.
    static func random(_ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        return RAND_bytes(&bytes, Int32(count)) == 1 ? bytes : nil
    }

    /// `plaintext` sealed with the first key, for the cookie `name`; nil only if OpenSSL fails.
    public static func seal(_ plaintext: [UInt8], name: String, keys: SessionKeys) -> String? {
        let key = keys.keys[0]
        guard let nonce = random(nonceLength), let context = EVP_CIPHER_CTX_new() else { return nil }
        defer { EVP_CIPHER_CTX_free(context) }
        var out = [keyID(key)] + nonce
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: tagLength)
        var length: Int32 = 0
        var total: Int32 = 0
        let aad = Array(name.utf8)
        guard EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil) == 1,
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(nonceLength), nil) == 1,
            EVP_EncryptInit_ex(context, nil, nil, key, nonce) == 1,
            EVP_EncryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1,
            ciphertext.withUnsafeMutableBufferPointer({ out in
                EVP_EncryptUpdate(context, out.baseAddress, &length, plaintext, Int32(plaintext.count)) == 1
                    && {
                        total = length
                        return true
                    }()
                    && EVP_EncryptFinal_ex(context, out.baseAddress! + Int(total), &length) == 1
            }),
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(tagLength), &tag) == 1
        else { return nil }
        total += length
        out += ciphertext[0..<Int(total)]
        out += tag
        return Base64URL.encode(out)
    }

    /// The plaintext of a value sealed for the cookie `name` with one of `keys`; nil when it is
    /// not one (tampered, truncated, another cookie's, a key no longer in force).
    public static func open(_ value: String, name: String, keys: SessionKeys) -> [UInt8]? {
        guard value.utf8.count <= 16 * 1024, let bytes = Base64URL.decode(value),
            bytes.count >= 1 + nonceLength + tagLength
        else { return nil }
        let id = bytes[0]
        let nonce = Array(bytes[1..<1 + nonceLength])
        let ciphertext = Array(bytes[(1 + nonceLength)..<(bytes.count - tagLength)])
        var tag = Array(bytes[(bytes.count - tagLength)...])
        let aad = Array(name.utf8)
        for key in keys.keys where keyID(key) == id {
            guard let context = EVP_CIPHER_CTX_new() else { return nil }
            defer { EVP_CIPHER_CTX_free(context) }
            var plaintext = [UInt8](repeating: 0, count: ciphertext.count + 16)
            var length: Int32 = 0
            var total: Int32 = 0
            let opened =
                EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil) == 1
                && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(nonceLength), nil) == 1
                && EVP_DecryptInit_ex(context, nil, nil, key, nonce) == 1
                && EVP_DecryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1
                && plaintext.withUnsafeMutableBufferPointer { out in
                    EVP_DecryptUpdate(context, out.baseAddress, &length, ciphertext, Int32(ciphertext.count)) == 1
                        && {
                            total = length
                            return true
                        }()
                        && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(tagLength), &tag) == 1
                        && EVP_DecryptFinal_ex(context, out.baseAddress! + Int(total), &length) == 1
                }
            if opened { return Array(plaintext[0..<Int(total + length)]) }
        }
        return nil
    }
}
