//go:build !faultinject

package bus

// injectFault does nothing: fault injection exists only in binaries built
// with the faultinject tag (fault_on.go).
func injectFault(point, subject string, flush func() error) {}
