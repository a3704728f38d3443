/// A mistake on the command line; `message` says what, without a program
/// prefix (`--timeout needs a number of seconds`). Programs print it with
/// their usage and exit 2.
public struct CommandLineError: Error, Equatable {
    /// One sentence for people.
    public let message: String

    /// An error saying `message`.
    public init(_ message: String) {
        self.message = message
    }
}

/// Walks a command line one argument at a time, GNU style: `--flag value`
/// and `--flag=value` are the same, `-x value` and `-x=value` too, `--`
/// makes every later argument positional, and a lone `-` is positional.
///
/// Whether an option takes a value is the caller's knowledge: on seeing
/// `.option` it calls `value(of:inline:)` or `noValue(of:inline:)`.
public struct ArgumentScanner {
    /// One argument as the scanner sees it.
    public enum Argument: Equatable {
        /// An option such as `--json` or `-c`, with the text after `=` if it had one.
        case option(name: String, inline: String?)
        /// Anything else: a command, a peer name, an address.
        case positional(String)
    }

    private let arguments: [String]
    private var index = 0
    private var onlyPositionals = false

    /// A scanner over `arguments` (without the program name).
    public init(_ arguments: [String]) {
        self.arguments = arguments
    }

    /// The next argument, or nil at the end.
    public mutating func next() -> Argument? {
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if onlyPositionals || argument == "-" || !argument.hasPrefix("-") {
                return .positional(argument)
            }
            if argument == "--" {
                onlyPositionals = true
                continue
            }
            guard let equals = argument.utf8.firstIndex(of: UInt8(ascii: "=")) else {
                return .option(name: argument, inline: nil)
            }
            let name = String(decoding: argument.utf8[..<equals], as: UTF8.self)
            let value = String(decoding: argument.utf8[argument.utf8.index(after: equals)...], as: UTF8.self)
            return .option(name: name, inline: value)
        }
        return nil
    }

    /// The value of option `name`: its inline `=value`, else the next
    /// argument. Throws if there is none or it is empty.
    public mutating func value(of name: String, inline: String?) throws(CommandLineError) -> String {
        let value: String
        if let inline {
            value = inline
        } else {
            guard index < arguments.count else { throw CommandLineError(name + " needs a value") }
            value = arguments[index]
            index += 1
        }
        guard !value.isEmpty else { throw CommandLineError(name + " needs a non-empty value") }
        return value
    }

    /// A switch: `--name` alone is true, `--name=true` or `--name=false` say so.
    public func boolean(of name: String, inline: String?) throws(CommandLineError) -> Bool {
        switch inline {
        case nil, "true": return true
        case "false": return false
        default: throw CommandLineError(name + " is a switch: give it alone, or =true or =false")
        }
    }

    /// Throws if flag `name`, which takes no value, was given one with `=`.
    public func noValue(of name: String, inline: String?) throws(CommandLineError) {
        if inline != nil { throw CommandLineError(name + " takes no value") }
    }

    /// A whole number in `range` written in decimal digits only, or nil.
    public static func integer(_ text: String, in range: ClosedRange<Int>) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 9 else { return nil }
        var value = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return range.contains(value) ? value : nil
    }

    /// Seconds written as `30`, `1.5` or `0.250` (at most three decimals)
    /// converted to milliseconds, if within `range` milliseconds; else nil.
    public static func milliseconds(fromSeconds text: String, in range: ClosedRange<Int64>) -> Int64? {
        var whole: Int64 = 0
        var fraction: Int64 = 0
        var fractionDigits = 0
        var seenPoint = false
        var digits = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") && !seenPoint {
                seenPoint = true
                continue
            }
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            let digit = Int64(byte - UInt8(ascii: "0"))
            if seenPoint {
                fractionDigits += 1
                guard fractionDigits <= 3 else { return nil }
                fraction = fraction * 10 + digit
            } else {
                digits += 1
                guard digits <= 9 else { return nil }
                whole = whole * 10 + digit
            }
        }
        guard digits > 0 || fractionDigits > 0 else { return nil }
        while fractionDigits < 3 {
            fraction *= 10
            fractionDigits += 1
        }
        let value = whole * 1000 + fraction
        return range.contains(value) ? value : nil
    }
}
