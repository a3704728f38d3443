import CTern

/// ChaCha20-Poly1305 (RFC 8439, IETF 96-bit nonce) over libsodium, in place.
///
/// A sealed message is the ciphertext followed by a 16-byte tag. Both
/// operations work on a buffer the caller owns and allocate nothing.
public enum ChaChaPoly {
    /// Bytes of the Poly1305 tag appended to every sealed message.
    public static let tagLength = 16

    /// WireGuard's nonce layout: four zero bytes, then the 64-bit counter little-endian.
    public static func nonce(counter: UInt64) -> InlineArray<12, UInt8> {
        var nonce = InlineArray<12, UInt8>(repeating: 0)
        withUnsafeMutableBytes(of: &nonce) { $0.storeBytes(of: counter.littleEndian, toByteOffset: 4, as: UInt64.self) }
        return nonce
    }

    /// Encrypts `buffer[0..<plaintextLength]` in place and writes the tag after it.
    ///
    /// `buffer` must hold `plaintextLength + tagLength` bytes. Returns the sealed length.
    @discardableResult
    public static func seal(
        _ buffer: UnsafeMutableRawBufferPointer, plaintextLength: Int,
        nonce: InlineArray<12, UInt8>, key: SymmetricKey,
        additionalData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    ) -> Int {
        precondition(plaintextLength >= 0 && buffer.count >= plaintextLength + tagLength, "AEAD buffer too small")
        let message = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        withUnsafeBytes(of: nonce) { nonceBytes in
            key.withUnsafeBytes { keyBytes in
                // libsodium allows the ciphertext to overlap the plaintext exactly.
                _ = crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                    message, message + plaintextLength, nil,
                    message, UInt64(plaintextLength),
                    additionalData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(additionalData.count),
                    nil, nonceBytes.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    keyBytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        return plaintextLength + tagLength
    }

    /// Seals with WireGuard's counter nonce.
    @discardableResult
    public static func seal(
        _ buffer: UnsafeMutableRawBufferPointer, plaintextLength: Int, counter: UInt64, key: SymmetricKey,
        additionalData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    ) -> Int {
        seal(buffer, plaintextLength: plaintextLength, nonce: nonce(counter: counter), key: key,
             additionalData: additionalData)
    }

    /// Verifies and decrypts `buffer[0..<sealedLength]` in place.
    ///
    /// Returns the plaintext length, or throws `authenticationFailed`. After a
    /// failure the ciphertext bytes are zero (libsodium clears them; so do we,
    /// to be independent of its version): unauthenticated data is never
    /// released. A length refused before the tag check changes nothing.
    public static func open(
        _ buffer: UnsafeMutableRawBufferPointer, sealedLength: Int,
        nonce: InlineArray<12, UInt8>, key: SymmetricKey,
        additionalData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    ) throws(CryptoError) -> Int {
        guard sealedLength >= tagLength, sealedLength <= buffer.count else { throw .authenticationFailed }
        let plaintextLength = sealedLength - tagLength
        let message = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let status = withUnsafeBytes(of: nonce) { nonceBytes in
            key.withUnsafeBytes { keyBytes in
                crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                    message, nil,
                    message, UInt64(plaintextLength), message + plaintextLength,
                    additionalData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(additionalData.count),
                    nonceBytes.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    keyBytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard status == 0 else {
            sodium_memzero(message, plaintextLength)
            throw .authenticationFailed
        }
        return plaintextLength
    }

    /// Opens with WireGuard's counter nonce.
    public static func open(
        _ buffer: UnsafeMutableRawBufferPointer, sealedLength: Int, counter: UInt64, key: SymmetricKey,
        additionalData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    ) throws(CryptoError) -> Int {
        try open(buffer, sealedLength: sealedLength, nonce: nonce(counter: counter), key: key,
                 additionalData: additionalData)
    }
}

/// XChaCha20-Poly1305 (192-bit nonce) over libsodium, in place. WireGuard uses it
/// only for cookie replies.
public enum XChaChaPoly {
    /// Bytes of the Poly1305 tag appended to every sealed message.
    public static let tagLength = 16

    /// Bytes of the nonce.
    public static let nonceLength = 24

    /// Encrypts `buffer[0..<plaintextLength]` in place and writes the tag after it.
    /// `nonce` must hold 24 bytes. Returns the sealed length.
    @discardableResult
    public static func seal(
        _ buffer: UnsafeMutableRawBufferPointer, plaintextLength: Int,
        nonce: UnsafeRawBufferPointer, key: SymmetricKey,
        additionalData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    ) -> Int {
        precondition(plaintextLength >= 0 && buffer.count >= plaintextLength + tagLength, "AEAD buffer too small")
        precondition(nonce.count == nonceLength, "XChaCha20 needs a 24-byte nonce")
        let message = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        key.withUnsafeBytes { keyBytes in
            _ = crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
                message, message + plaintextLength, nil,
                message, UInt64(plaintextLength),
                additionalData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(additionalData.count),
                nil, nonce.baseAddress!.assumingMemoryBound(to: UInt8.self),
                keyBytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return plaintextLength + tagLength
    }

    /// Verifies and decrypts `buffer[0..<sealedLength]` in place; returns the
    /// plaintext length. After a failure the ciphertext bytes are zero.
    public static func open(
        _ buffer: UnsafeMutableRawBufferPointer, sealedLength: Int,
        nonce: UnsafeRawBufferPointer, key: SymmetricKey,
        additionalData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    ) throws(CryptoError) -> Int {
        guard sealedLength >= tagLength, sealedLength <= buffer.count, nonce.count == nonceLength else {
            throw .authenticationFailed
        }
        let plaintextLength = sealedLength - tagLength
        let message = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let status = key.withUnsafeBytes { keyBytes in
            crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
                message, nil,
                message, UInt64(plaintextLength), message + plaintextLength,
                additionalData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(additionalData.count),
                nonce.baseAddress!.assumingMemoryBound(to: UInt8.self),
                keyBytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard status == 0 else {
            sodium_memzero(message, plaintextLength)
            throw .authenticationFailed
        }
        return plaintextLength
    }
}
