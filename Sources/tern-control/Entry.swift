import CTern

// Embedded Swift has no CommandLine: take argv from the C entry point there.
#if hasFeature(Embedded)
@_cdecl("main")
func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    TernControl.run((0..<Int(argc)).map { String(cString: argv[$0]!) })
}
#else
@main
struct Entry {
    static func main() { exit(TernControl.run(CommandLine.arguments)) }
}
#endif
