import ControlProtocol
import Mesh
import Testing

@Suite struct FailureResponseTests {
    @Test func onlyAPersonCanFixKeyAndLoginFailures() {
        let table: [(ControlFailure.Code, stop: Bool, loggedOut: Bool, forget: Bool)] = [
            (.authKeyInvalid, true, false, false), (.authKeyRevoked, true, false, false),
            (.authKeyExpired, true, false, false), (.authKeyUsed, true, false, false),
            (.loginRequired, true, true, false), (.nodeKeyExpired, true, true, false),
            (.nodeDeleted, true, true, true),
            (.badRequest, false, false, false), (.addressesExhausted, false, false, false),
            (.internalError, false, false, false),
        ]
        for (code, stop, loggedOut, forget) in table {
            let response = FailureResponse(code)
            #expect(response.stopRetrying == stop && response.loggedOut == loggedOut && response.forgetMap == forget, "\(code)")
        }
    }
}
