import JSON

// The control messages on a session: compact JSON, one message per frame.

extension ControlSession {
    /// JSON limits for one frame's plaintext: as large as a frame can be,
    /// nesting as deep as the messages need and a little more.
    static let parseOptions = JSONParser.Options(syntax: .strict, maxDepth: 16,
                                                 maxInputSize: ControlSession.maxPlaintextLength)

    /// Seals `message` (node → server) as one complete frame.
    public mutating func seal(_ message: NodeMessage) throws(ControlChannelError) -> [UInt8] {
        try seal(JSONSerializer.bytes(message.json))
    }

    /// Seals `message` (server → node) as one complete frame.
    public mutating func seal(_ message: ServerMessage) throws(ControlChannelError) -> [UInt8] {
        try seal(JSONSerializer.bytes(message.json))
    }

    /// Opens a frame body from the node and reads the message in it. An
    /// authentic frame whose plaintext is not a node message throws
    /// `badMessage`; the session itself stays usable (the server may answer
    /// with a failure before it closes).
    public mutating func openNodeMessage(_ frameBody: [UInt8]) throws(ControlChannelError) -> NodeMessage {
        let json = try Self.parse(try open(frameBody))
        do { return try NodeMessage(json: json) } catch { throw .badMessage(error.description) }
    }

    /// Opens a frame body from the server and reads the message in it; like
    /// `openNodeMessage`.
    public mutating func openServerMessage(_ frameBody: [UInt8]) throws(ControlChannelError) -> ServerMessage {
        let json = try Self.parse(try open(frameBody))
        do { return try ServerMessage(json: json) } catch { throw .badMessage(error.description) }
    }

    static func parse(_ plaintext: [UInt8]) throws(ControlChannelError) -> JSONValue {
        do { return try JSONParser.parse(plaintext, options: parseOptions) } catch { throw .badMessage(error.description) }
    }
}
