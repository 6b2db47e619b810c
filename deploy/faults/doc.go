// Package faults is newsroom's fault-injection suite (its tests): the
// pipeline under a steady stream of submissions, with two instances of
// every service sharing their consumers, while service processes are
// SIGKILLed at chosen points of a message's life, nats-server is killed and
// restarted, a JetStream cluster loses its stream leader, a handler runs
// longer than AckWait, poison messages arrive, the article log fills up and
// Jaeger goes away. After each scenario the ledger assertion checks that
// nothing acknowledged was lost and no effect happened twice. See
// deploy/README.md, "Fault tolerance".
package faults
