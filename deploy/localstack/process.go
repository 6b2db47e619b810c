package localstack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is one program of the stack. It can be started, stopped, killed
// and started again with the same command, environment, ports and data, so
// fault-injection tests can crash a component and bring it back.
type Process struct {
	Name    string
	path    string
	args    []string
	env     []string
	logPath string
	ready   func(context.Context) error

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
	err    error         // cmd.Wait's result
}

// LogPath is the file the process's stdout and stderr are appended to,
// across restarts.
func (p *Process) LogPath() string { return p.logPath }

// Env is the process's environment (KEY=value), for reports.
func (p *Process) Env() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.env...)
}

// SetEnv sets (or, with an empty value, removes) a variable of the
// process's environment from its next Start on, e.g. to arm a fault
// (NEWSROOM_FAULT) for one run of one instance.
func (p *Process) SetEnv(key, value string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	env := p.env[:0:0]
	for _, kv := range p.env {
		if k, _, _ := strings.Cut(kv, "="); k != key {
			env = append(env, kv)
		}
	}
	if value != "" {
		env = append(env, key+"="+value)
	}
	p.env = env
}

// Start starts the process if it is not running; it does not wait for
// readiness (WaitReady does).
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && !isClosed(p.exited) {
		return nil
	}
	log, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("%s: log: %w", p.Name, err)
	}
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group: a Ctrl-C at the terminal reaches only the
	// orchestrator, which stops the stack in order.
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	exited := make(chan struct{})
	p.cmd, p.exited, p.err = cmd, exited, nil
	go func() {
		err := cmd.Wait()
		log.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(exited)
	}()
	return nil
}

// Pid is the running process's id, or 0.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || isClosed(p.exited) {
		return 0
	}
	return p.cmd.Process.Pid
}

// Running reports whether the process has been started and has not exited.
func (p *Process) Running() bool { return p.Pid() != 0 }

// Exited is closed when the current run of the process ends (nil if it
// never started).
func (p *Process) Exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited
}

// ExitErr is the last run's exit status (nil for a clean exit or a run
// still going).
func (p *Process) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Signal sends sig to the running process (SIGSTOP and SIGCONT pause and
// resume it).
func (p *Process) Signal(sig os.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || isClosed(p.exited) {
		return fmt.Errorf("%s is not running", p.Name)
	}
	return p.cmd.Process.Signal(sig)
}

// Kill sends SIGKILL, a crash with no chance to drain or flush, and waits
// for the process to be gone.
func (p *Process) Kill() error {
	if err := p.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-p.Exited()
	return nil
}

// Stop asks the process to finish (SIGTERM: drain, flush, exit) and waits
// up to timeout before killing it.
func (p *Process) Stop(timeout time.Duration) error {
	if !p.Running() {
		return nil
	}
	exited := p.Exited()
	// A paused process cannot handle SIGTERM until it runs again.
	_ = p.Signal(syscall.SIGCONT)
	if err := p.Signal(syscall.SIGTERM); err != nil {
		return nil // exited meanwhile
	}
	select {
	case <-exited:
		return nil
	case <-time.After(timeout):
		_ = p.Signal(syscall.SIGKILL)
		<-exited
		return fmt.Errorf("%s did not stop within %s after SIGTERM; killed", p.Name, timeout)
	}
}

// WaitReady polls the process's readiness check until it passes, ctx ends,
// or the process exits.
func (p *Process) WaitReady(ctx context.Context) error {
	exited := p.Exited()
	if exited == nil {
		return fmt.Errorf("%s was never started", p.Name)
	}
	var last error
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = p.ready(cctx)
		cancel()
		if last == nil {
			// Another program on the same port could have answered.
			if isClosed(exited) {
				return fmt.Errorf("%s exited (%v) though its address answers; see %s", p.Name, p.ExitErr(), p.logPath)
			}
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited before it was ready (%v); see %s", p.Name, p.ExitErr(), p.logPath)
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last check: %v); see %s", p.Name, ctx.Err(), last, p.logPath)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Restart stops the process (SIGTERM, 10s), starts it again and waits
// until it is ready.
func (p *Process) Restart(ctx context.Context) error {
	if err := p.Stop(10 * time.Second); err != nil {
		return err
	}
	if err := p.Start(); err != nil {
		return err
	}
	return p.WaitReady(ctx)
}

func isClosed(ch <-chan struct{}) bool {
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
