/// TAI64N known answers: (unix seconds, nanoseconds, expected 12 bytes hex).
/// The second checks the whitening of the low 24 bits of the nanoseconds.
public let tai64nVectors: [(seconds: Int64, nanoseconds: UInt32, bytes: String)] = [
    (1_700_000_000, 0, "400000006553f10a00000000"),
    (0, 999_999_999, "400000000000000a3b000000"),
]
