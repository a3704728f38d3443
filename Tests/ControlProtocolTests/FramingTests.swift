import Testing
import TestSupport
@testable import ControlProtocol

/// The length-prefixed stream framing and its incremental decoder.
@Suite struct FramingTests {
    /// A stream of frames with bodies of assorted lengths, including empty ones.
    private func sampleBodies(_ generator: inout SplitMix64) -> [[UInt8]] {
        [[], [1], randomBytes(147, using: &generator), [], randomBytes(300, using: &generator),
         randomBytes(70_000, using: &generator), randomBytes(3, using: &generator)]
    }

    private func drain(_ decoder: inout ControlFrameDecoder) throws -> [[UInt8]] {
        var bodies: [[UInt8]] = []
        while let body = try decoder.next() { bodies.append(body) }
        return bodies
    }

    @Test func frameIsBigEndianLengthThenBody() {
        #expect(ControlFraming.frame([]) == [0, 0, 0, 0])
        #expect(ControlFraming.frame([9, 8]) == [0, 0, 0, 2, 9, 8])
        let body = [UInt8](repeating: 7, count: 0x01_0203)
        let framed = ControlFraming.frame(body)
        #expect(Array(framed.prefix(4)) == [0x00, 0x01, 0x02, 0x03])
        #expect(Array(framed.dropFirst(4)) == body)
    }

    @Test func decoderFedByteByByte() throws {
        var generator = SplitMix64(seed: 11)
        let bodies = sampleBodies(&generator)
        let stream = bodies.flatMap { ControlFraming.frame($0) }
        var decoder = ControlFrameDecoder()
        var decoded: [[UInt8]] = []
        for byte in stream {
            decoder.append([byte])
            decoded += try drain(&decoder)
        }
        #expect(decoded == bodies)
        #expect(decoder.bufferedCount == 0)
    }

    @Test func decoderFedInRandomChunks() throws {
        var generator = SplitMix64(seed: 12)
        for _ in 0..<50 {
            let bodies = sampleBodies(&generator)
            let stream = bodies.flatMap { ControlFraming.frame($0) }
            var decoder = ControlFrameDecoder()
            var decoded: [[UInt8]] = []
            var offset = 0
            while offset < stream.count {
                let chunk = Int.random(in: 1...(generator.chance(20) ? 100_000 : 600), using: &generator)
                let end = min(stream.count, offset + chunk)
                if generator.chance(50) {
                    decoder.append(Array(stream[offset..<end]))
                } else {
                    stream[offset..<end].withUnsafeBytes { decoder.append($0) }
                }
                decoded += try drain(&decoder)
                offset = end
            }
            #expect(decoded == bodies)
            #expect(decoder.bufferedCount == 0)
        }
    }

    @Test func incompleteFrameWaits() throws {
        var decoder = ControlFrameDecoder()
        decoder.append([0, 0, 0])
        #expect(try decoder.next() == nil)
        decoder.append([5, 1, 2, 3, 4])
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedCount == 8)
        decoder.append([5, 0, 0])
        #expect(try decoder.next() == [1, 2, 3, 4, 5])
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedCount == 2)
    }

    @Test func largestFrameIsAccepted() throws {
        var decoder = ControlFrameDecoder()
        let body = [UInt8](repeating: 0x5a, count: ControlFraming.maxFrameLength)
        decoder.append(ControlFraming.frame(body))
        #expect(try decoder.next() == body)
    }

    @Test func oversizeLengthIsRefusedFromTheHeaderAlone() throws {
        for (header, length) in [([0x00, 0x80, 0x00, 0x01], ControlFraming.maxFrameLength + 1),
                                 ([0x7f, 0xff, 0xff, 0xff], Int(Int32.max)),
                                 ([0xff, 0xff, 0xff, 0xff], Int(UInt32.max))] as [([UInt8], Int)] {
            var decoder = ControlFrameDecoder()
            decoder.append(header)
            #expect(throws: ControlChannelError.frameTooLarge(length)) { try decoder.next() }
            // Failed for good, and holding nothing.
            decoder.append([0, 0, 0, 0])
            #expect(decoder.bufferedCount == 0)
            #expect(throws: ControlChannelError.frameTooLarge(length)) { try decoder.next() }
        }
    }

    /// A server holds a stranger to a handshake-sized frame, then raises the
    /// limit once the peer has proved itself; the header alone decides.
    @Test func aLoweredLimitRefusesFromTheHeaderAndCanBeRaised() throws {
        var strict = ControlFrameDecoder(maximumFrameLength: 148)
        strict.append([0x00, 0x80, 0x00, 0x00])
        #expect(throws: ControlChannelError.frameTooLarge(0x80_0000)) { try strict.next() }
        #expect(strict.bufferedCount == 0)

        var decoder = ControlFrameDecoder(maximumFrameLength: 148)
        let handshake = [UInt8](repeating: 3, count: 148)
        let later = [UInt8](repeating: 4, count: 5000)
        decoder.append(ControlFraming.frame(handshake) + ControlFraming.frame(later))
        #expect(try decoder.next() == handshake)
        decoder.maximumFrameLength = 128 << 10
        #expect(try decoder.next() == later)
        decoder.append(ControlFraming.frame([UInt8](repeating: 5, count: 149)))
        decoder.maximumFrameLength = 148
        #expect(throws: ControlChannelError.frameTooLarge(149)) { try decoder.next() }
    }

    @Test func oversizeAfterGoodFramesIsRefusedAfterThem() throws {
        var decoder = ControlFrameDecoder()
        decoder.append(ControlFraming.frame([1]) + ControlFraming.frame([2]) + [0x01, 0, 0, 0] + [UInt8](repeating: 0, count: 100))
        #expect(try decoder.next() == [1])
        #expect(try decoder.next() == [2])
        #expect(throws: ControlChannelError.frameTooLarge(0x0100_0000)) { try decoder.next() }
    }

    @Test func manyFramesInOneChunkLeaveOnlyThePartialFrame() throws {
        // Many small frames in one big chunk, then a partial frame: what stays
        // buffered is the partial frame, not everything ever appended.
        var decoder = ControlFrameDecoder()
        let small = ControlFraming.frame([UInt8](repeating: 1, count: 1000))
        var stream: [UInt8] = []
        for _ in 0..<500 { stream += small }
        decoder.append(stream + [0, 0, 1, 0, 9])
        var count = 0
        while try decoder.next() != nil { count += 1 }
        #expect(count == 500)
        #expect(decoder.bufferedCount == 5)
    }
}
