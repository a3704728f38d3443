import IP
import TernCrypto
import WireGuard

/// The answer to `get=1`: the device described in the lines of spec digest
/// §9, in wireguard-go's order, ending with `errno=0\n\n`.
///
/// ```
/// private_key=<hex64>                 (omitted without a key)
/// listen_port=<u16>                   (omitted when 0)
/// fwmark=<u32>                        (omitted when 0)
/// public_key=<hex64>                  then, for each peer:
/// preshared_key=<hex64>               (all zero when none)
/// protocol_version=1
/// endpoint=<a.b.c.d:port | [v6]:port> (omitted when unknown)
/// last_handshake_time_sec=<int>       (0 and 0 when never)
/// last_handshake_time_nsec=<int>
/// tx_bytes=<u64>
/// rx_bytes=<u64>
/// persistent_keepalive_interval=<u16>
/// allowed_ip=<addr>/<cidr>            (one per prefix)
/// errno=0
/// ```
///
/// Peers come in handle order and allowed IPs in `IPPrefix` order (IPv4
/// first); wireguard-go's order is unspecified, and `wg` does not care.
public enum GetResponse {
    /// The response bytes for `device` and the shell's `settings`. The last
    /// handshake (monotonic ns) is converted to wall time with the clocks read
    /// once by the caller: `now` (monotonic ns) and `wallNow` (ns since 1970).
    public static func render<R: RandomSource>(
        _ device: Device<R>, settings: DeviceSettings, now: UInt64, wallNow: UInt64
    ) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(1024)
        write(device, settings: settings, now: now, wallNow: wallNow, to: &output)
        return output
    }

    /// Appends the response to `output` (a connection's write buffer, say);
    /// see `render`.
    public static func write<R: RandomSource>(
        _ device: Device<R>, settings: DeviceSettings, now: UInt64, wallNow: UInt64, to output: inout [UInt8]
    ) {
        if let identity = device.identity {
            output.append("private_key=")
            output.appendHex(identity.privateKey)
            output.append(UInt8(ascii: "\n"))
        }
        if settings.listenPort != 0 { output.appendLine("listen_port", decimal: UInt64(settings.listenPort)) }
        if settings.fwmark != 0 { output.appendLine("fwmark", decimal: UInt64(settings.fwmark)) }
        for peer in device.peers {
            output.append("public_key=")
            output.appendHex(peer.publicKey)
            output.append("\npreshared_key=")
            output.appendHex(peer.keys.presharedKey)
            output.append("\nprotocol_version=1\n")
            if let endpoint = peer.endpoint?.udp {      // a relay path has no UAPI spelling
                output.append("endpoint=")
                output.append(text: endpoint.description)
                output.append(UInt8(ascii: "\n"))
            }
            let wall = wallTime(of: peer.lastHandshake, now: now, wallNow: wallNow)
            output.appendLine("last_handshake_time_sec", decimal: wall / 1_000_000_000)
            output.appendLine("last_handshake_time_nsec", decimal: wall % 1_000_000_000)
            output.appendLine("tx_bytes", decimal: peer.sentBytes)
            output.appendLine("rx_bytes", decimal: peer.receivedBytes)
            output.appendLine("persistent_keepalive_interval", decimal: UInt64(peer.persistentKeepaliveInterval))
            for prefix in device.allowedIPs(of: peer.id) {
                output.append("allowed_ip=")
                output.append(text: prefix.description)
                output.append(UInt8(ascii: "\n"))
            }
        }
        UAPIResponse.write(errno: 0, to: &output)
    }

    /// The wall-clock time (ns since 1970) of the monotonic instant `instant`,
    /// given that monotonic `now` is wall `wallNow`; 0 for nil (never). An
    /// instant after `now` counts as `now`; one before 1970 as 0.
    public static func wallTime(of instant: UInt64?, now: UInt64, wallNow: UInt64) -> UInt64 {
        guard let instant else { return 0 }
        let elapsed = instant <= now ? now - instant : 0
        return elapsed <= wallNow ? wallNow - elapsed : 0
    }
}
