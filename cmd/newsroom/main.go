// Command newsroom is the all-in-one newsroom (an embedded NATS server with
// JetStream and all four services in one process, API and site on one
// address) and the editor's command line.
//
//	newsroom                 run the all-in-one (same as "newsroom serve")
//	newsroom help            list the commands
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// command is one subcommand. Each lives in its own file and registers
// itself in init.
type command struct {
	name    string
	summary string
	// help is printed by "newsroom help NAME": flags and environment.
	help string
	run  func(ctx context.Context, io cmdIO, args []string) error
}

// cmdIO is a command's environment.
type cmdIO struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("newsroom: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// errUsage makes cli exit with status 2 after the message.
type errUsage string

func (e errUsage) Error() string { return string(e) }

// cli runs one command and returns the process exit code.
func cli(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if name == "help" || (len(args) > 0 && (args[0] == "-h" || args[0] == "--help")) {
		if name == "help" && len(args) > 0 {
			name = args[0]
		}
		if c, ok := commands[name]; ok && name != "help" {
			fmt.Fprintf(stdout, "newsroom %s: %s\n\n%s", c.name, c.summary, c.help)
			return 0
		}
		fmt.Fprint(stdout, usage())
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "newsroom: unknown command %q\n\n%s", name, usage())
		return 2
	}
	err := c.run(ctx, cmdIO{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}, args)
	if err != nil {
		fmt.Fprintf(stderr, "newsroom %s: %v\n", name, err)
		if _, isUsage := err.(errUsage); isUsage {
			return 2
		}
		return 1
	}
	return 0
}

func usage() string {
	var b strings.Builder
	b.WriteString("usage: newsroom [command] [arguments]\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, commands[n].summary)
	}
	b.WriteString("\n\"newsroom help COMMAND\" describes one command.\n")
	return b.String()
}
