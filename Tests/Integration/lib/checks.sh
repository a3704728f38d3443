# Named checks for Tern's integration tests (bash). Source it, then:
#
#   check "what is being checked" command args...    # prints "ok" or "FAIL"
#   checks_summary                                   # "N passed, N failed"; false on any failure

passed=0
failed=0

check() {
    local name=$1
    shift
    if "$@" >/dev/null 2>&1; then
        echo "ok    $name"; passed=$((passed + 1))
    else
        echo "FAIL  $name"; failed=$((failed + 1))
    fi
}

checks_summary() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
