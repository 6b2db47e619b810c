package localstack

import "syscall"

// sysProcAttr puts the child in its own process group and has the kernel
// kill it if the orchestrator dies (a test binary killed by a timeout must
// not leave servers holding ports).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
