// Package faults holds Yagona's fault tests: a test program that builds
// the yagona and yagona-load binaries, starts three replicas on loopback
// against one PostgreSQL schema and a Redis server of its own, puts them
// under load from yagona-load, and then breaks things: it finishes logins
// on another replica than the one they started on, revokes on one replica
// and asks the others, kills a replica (SIGKILL) in the middle of
// issuance, kills the leader of the periodic jobs, stops Redis, and stops
// PostgreSQL; after each fault it checks what was promised (docs/operations.md,
// "When a part fails").
//
// The tests run only when YAGONA_TEST_FAULTS=1, with
// YAGONA_TEST_POSTGRES_URL set and redis-server on the PATH. Stopping
// PostgreSQL also needs YAGONA_TEST_PG_STOP and YAGONA_TEST_PG_START,
// shell commands that stop and start the server (it is shared, so .ci/run
// runs this package on its own, after the rest). YAGONA_TEST_FAULTS_SESSIONS
// sets how many live sessions the memory check holds (default 10000).
package faults
