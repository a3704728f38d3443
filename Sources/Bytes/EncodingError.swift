/// Why text could not be decoded into bytes.
public enum EncodingError: Error, Equatable {
    /// The text has the wrong number of characters for the expected output.
    case wrongLength(expected: Int, actual: Int)
    /// A character outside the alphabet, at this 0-based byte offset.
    case invalidCharacter(offset: Int)
    /// Padding (`=`) is missing, misplaced, or the unused trailing bits are not zero.
    case invalidPadding
}

extension EncodingError: CustomStringConvertible {
    /// A one-line message for people.
    public var description: String {
        switch self {
        case .wrongLength(let expected, let actual):
            return "expected " + String(expected) + " characters, got " + String(actual)
        case .invalidCharacter(let offset):
            return "invalid character at offset " + String(offset)
        case .invalidPadding:
            return "invalid padding"
        }
    }
}
