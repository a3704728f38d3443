import CTern
import ControlProtocol
import IP
import Linux
import Mesh
import TernCrypto
import WireGuard

/// `tern-bench control-abuse http://IP:PORT AUTHKEY SCENARIO`: one client that
/// misbehaves the way an attacker would once it is past the handshake, for
/// the tests that attack `tern-control`. It prints what the server did.
///
/// - `pings MS`: completes the handshake, never logs in and sends a ping
///   every MS milliseconds; prints `closed after N ms (K pongs)` when the
///   server closes the connection.
/// - `endpoints N`: logs in, then reports N endpoints in one message.
/// - `login-endpoints N`: logs in with N endpoints in the login itself.
///
/// After the endpoints it pings: `accepted` when the pong comes back,
/// `refused: MESSAGE` when the server answered with a failure, `closed` when
/// it closed without one. Gives up after 60 seconds (exit status 1).
enum ControlAbuse {
    enum Scenario {
        case pings(intervalMilliseconds: UInt64)
        case endpoints(Int)
        case loginEndpoints(Int)
    }

    static func run(_ arguments: [String]) -> Int32 {
        guard arguments.count == 6, let url = try? ControlURL(arguments[2]), let address = url.address,
              let number = Int(arguments[5]), number >= 0 else { usage() }
        let scenario: Scenario
        switch arguments[4] {
        case "pings" where number > 0: scenario = .pings(intervalMilliseconds: UInt64(number))
        case "endpoints": scenario = .endpoints(number)
        case "login-endpoints": scenario = .loginEndpoints(number)
        default: usage()
        }
        do { try Sodium.initialize() } catch { fail(error.description) }
        let authKey = arguments[3]
        let wall = Clock.wallClock()
        var client = ControlConnection(url: url, machine: StaticIdentity(privateKey: PrivateKey.generate()), serverKey: nil,
                                       ephemeral: PrivateKey.generate(),
                                       timestamp: TAI64N(unixSeconds: wall.seconds, nanoseconds: UInt32(wall.nanoseconds)))
        let tcp: TCPConnection
        let loop: EventLoop
        do {
            tcp = try TCPConnection.connect(to: Endpoint(address, port: url.port), keepalive: nil)
            loop = try EventLoop(capacity: 4)
            try loop.register(tcp.fileDescriptor, token: 1, interest: tcp.interest)
        } catch {
            fail("connect: " + error.description)
        }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
        defer { scratch.deallocate() }

        let started = Clock.monotonicNanoseconds()
        let giveUp = started + 60_000_000_000
        var established = false
        var loggedIn = false
        var pingSent = false
        var pongs = 0
        var nextPing: UInt64 = 0

        func send(_ bytes: [UInt8]) {
            do { _ = try tcp.write(bytes) } catch { finish("closed") }
        }

        func finish(_ outcome: String) -> Never {
            if case .pings = scenario {
                print("closed after " + String((Clock.monotonicNanoseconds() - started) / 1_000_000) + " ms ("
                      + String(pongs) + " pongs)")
            } else {
                print(outcome)
            }
            tcp.close()
            exit(0)
        }

        func endpoints(_ count: Int) -> [Endpoint] {
            (0..<count).map { i in
                Endpoint(.v4(IPv4Address(UInt32(0x0A00_0000) | UInt32(truncatingIfNeeded: i))), port: UInt16(1024 + i % 60_000))
            }
        }

        func login() {
            var request = LoginRequest(nodeKey: PrivateKey.generate().publicKey, hostname: "abuse", credential: .preAuthKey(authKey),
                                       endpoints: [], mapVersion: 0, advertisedRoutes: [])
            if case .loginEndpoints(let count) = scenario { request.endpoints = endpoints(count) }
            do { send(try client.send(.login(request))) } catch { fail(error.description) }
        }

        func afterMap() {
            guard !loggedIn else { return }
            loggedIn = true
            do {
                if case .endpoints(let count) = scenario { send(try client.send(.endpoints(endpoints(count)))) }
                send(try client.send(.ping(7)))
                pingSent = true
            } catch {
                fail(error.description)
            }
        }

        while Clock.monotonicNanoseconds() < giveUp {
            let now = Clock.monotonicNanoseconds()
            if established, case .pings(let interval) = scenario, now >= nextPing {
                do { send(try client.send(.ping(now))) } catch { fail(error.description) }
                nextPing = now + interval * 1_000_000
            }
            do { _ = try loop.wait(until: established ? min(nextPing, giveUp) : giveUp) } catch { fail(error.description) }
            do throws(ControlClientError) {
                if tcp.isConnecting {
                    guard try ControlLoad.io({ () throws(SystemError) in try tcp.finishConnect() }) else { continue }
                    for case .write(let bytes) in try client.start(now: 0) { send(bytes) }
                }
                _ = try ControlLoad.io({ () throws(SystemError) in try tcp.flush() })
                while let read = try ControlLoad.io({ () throws(SystemError) in try tcp.read(into: scratch) }) {
                    if read == 0 { finish("closed") }
                    for output in try client.receive(Array(UnsafeRawBufferPointer(rebasing: scratch[0..<read])), now: 0) {
                        switch output {
                        case .write(let bytes): send(bytes)
                        case .pinServerKey: break
                        case .established:
                            established = true
                            if case .pings = scenario { continue }
                            login()
                        case .message(.failure(let failure)): finish("refused: " + failure.message)
                        case .message(.map): afterMap()
                        case .message(.pong):
                            pongs += 1
                            if pingSent { finish("accepted") }
                        case .message: break
                        }
                    }
                }
                try ControlLoad.io({ () throws(SystemError) in try loop.modify(tcp.fileDescriptor, token: 1, interest: tcp.interest) })
            } catch {
                finish("closed")
            }
        }
        print("the server neither answered nor closed in 60 s")
        return 1
    }

    private static func usage() -> Never {
        fail("usage: tern-bench control-abuse http://IP:PORT AUTHKEY pings MS | endpoints N | login-endpoints N")
    }
}
