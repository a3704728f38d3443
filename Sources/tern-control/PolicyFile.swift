import ControlServer
import Policy
import State

/// Where the policy in force is kept: `policy.hujson` in the state
/// directory, its text as it was set (comments and all). No file means no
/// policy: every node may reach every other.
enum PolicyFile {
    static let kind = FileKind("PLCY")
    static let fileName = "policy.hujson"

    /// The stored policy, if any. One that no longer parses is an error (it
    /// was valid when it was set).
    static func load(directory: String) throws(ServiceError) -> ServerPolicy {
        let path = directory + "/" + fileName
        let stored: StoredFile?
        do { stored = try AtomicFile.readIfPresent(path, kind: kind, supportedVersion: 1) } catch {
            throw ServiceError("cannot read " + path + ": " + error.description)
        }
        guard let stored else { return ServerPolicy() }
        do { return try ServerPolicy(text: String(decoding: stored.payload, as: UTF8.self)) } catch {
            throw ServiceError(path + ": " + error.description)
        }
    }

    /// Stores `text` (already checked) atomically.
    static func store(_ text: String, directory: String) throws(ServiceError) {
        let path = directory + "/" + fileName
        do { try AtomicFile.write(Array(text.utf8), to: path, kind: kind, version: 1) } catch {
            throw ServiceError("cannot write " + path + ": " + error.description)
        }
    }
}
