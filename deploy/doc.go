// Package deploy holds newsroom's deployment descriptors (docker compose at
// the repository root, the Dockerfiles, Prometheus, Kubernetes) and the
// tests that hold them to the code: the environment each service reads,
// its port, health checks and manifests that validate offline.
package deploy
