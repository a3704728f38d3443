import TernCrypto
import WireGuard

/// The status line that ends every UAPI response.
public enum UAPIResponse {
    /// `errno=0\n\n`: the answer to a successful `set`.
    public static var success: [UInt8] { errno(0) }

    /// `errno=<value>\n\n`; `value` is 0 or a negative errno (`UAPIError.errno`).
    public static func errno(_ value: Int32) -> [UInt8] {
        var output: [UInt8] = []
        write(errno: value, to: &output)
        return output
    }

    /// Appends `errno=<value>\n\n` to `output`.
    public static func write(errno value: Int32, to output: inout [UInt8]) {
        output.append("errno=")
        output.appendDecimal(Int64(value))
        output.append("\n\n")
    }
}

extension UAPIRequest {
    /// Answers this request against `device`: the whole server side of one
    /// request, for a shell that has framed it with `RequestFramer`.
    ///
    /// - `get`: renders the device and `settings` (`GetResponse`); a `get`
    ///   with lines is refused with -EINVAL.
    /// - `set`: parses and validates every line first; on any error answers
    ///   its errno and changes nothing. If the request changes `listen_port`
    ///   or `fwmark`, `configureSocket` is called with the wanted settings
    ///   *before* the Device is touched; it returns the settings in effect (the
    ///   real port, if 0 was asked) or throws (say `.addressInUse`), and then
    ///   nothing is applied either. Otherwise the request is applied at `now`,
    ///   `settings` updated, and `errno=0` answered. The caller then drains
    ///   `Device.poll` (a persistent keepalive turned on queues a packet).
    public func respond<R: RandomSource>(
        device: Device<R>, settings: inout DeviceSettings, now: UInt64, wallNow: UInt64,
        configureSocket: (DeviceSettings) throws(UAPIError) -> DeviceSettings
    ) -> [UInt8] {
        switch operation {
        case .get:
            guard body.isEmpty else { return UAPIResponse.errno(UAPIError.unexpectedLineInGet(line: 2).errno) }
            return GetResponse.render(device, settings: settings, now: now, wallNow: wallNow)
        case .set:
            do throws(UAPIError) {
                let request = try SetRequest(body: body)
                let wanted = SetResult(listenPort: request.listenPort, fwmark: request.fwmark)
                var next = settings
                if wanted.changesSocket { next = try configureSocket(wanted.applied(to: settings)) }
                request.apply(to: device, now: now)
                settings = next
                return UAPIResponse.success
            } catch {
                return UAPIResponse.errno(error.errno)
            }
        }
    }
}
