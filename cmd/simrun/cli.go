package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
)

// Exit statuses.
const (
	exitOK         = 0
	exitError      = 1 // bad arguments, scenario or capture header
	exitIncomplete = 2 // a capture was damaged part way: the report covers the packets before the damage
)

// command is one subcommand. A subcommand lives in its own cmd_<name>.go
// file and registers itself from init.
type command struct {
	name    string
	summary string
	usage   string // after "simrun <name> "
	// run parses args with fs (already named and with output set) and
	// does the work. Its error becomes one line on stderr.
	run func(e *env, fs *flag.FlagSet, args []string) error
}

var commands = map[string]*command{}

// register adds a subcommand; it panics on a duplicate name.
func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("simrun: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// env is what a subcommand writes to.
type env struct {
	stdout, stderr io.Writer
	// isTerminal reports whether stderr is a terminal (for progress bars).
	isTerminal bool
}

// exitError carries a specific exit status with an error.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string { return e.err.Error() }
func (e *exitCodeError) Unwrap() error { return e.err }

// usageError marks bad command lines.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// Main runs simrun with args (without the program name) and returns the
// exit status. Errors go to stderr as one line each.
func Main(args []string, stdout, stderr io.Writer) (code int) {
	e := &env{stdout: stdout, stderr: stderr, isTerminal: stderrIsTerminal(stderr)}
	// Last resort only: bad input is handled as errors everywhere below, and
	// tests check that it never reaches this.
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "simrun: internal error: %v\n", r)
			if os.Getenv("SKBSIM_TRACEBACK") != "" {
				stderr.Write(debug.Stack())
			}
			code = 3
		}
	}()
	if len(args) == 0 {
		writeHelp(stderr)
		return exitError
	}
	name := args[0]
	if name == "-h" || name == "-help" || name == "--help" {
		name = "help"
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "simrun: unknown command %q (run 'simrun help')\n", name)
		return exitError
	}
	fs := flag.NewFlagSet("simrun "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	err := c.run(e, fs, args[1:])
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		writeCommandHelp(stdout, c, fs)
		return exitOK
	}
	fmt.Fprintf(stderr, "simrun %s: %s\n", c.name, oneLine(err.Error()))
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "usage: simrun %s %s\n", c.name, c.usage)
	}
	var ce *exitCodeError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitError
}

// parse parses flags, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	return nil
}

func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

func sortedCommands() []*command {
	cs := make([]*command, 0, len(commands))
	for _, c := range commands {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	return cs
}

func writeHelp(w io.Writer) {
	fmt.Fprintf(w, "simrun replays packet captures through a model of the Linux stack with BPF-like\n"+
		"programs at its hooks and reports where per-packet metadata survived and what it cost.\n\n"+
		"usage: simrun <command> [flags] [arguments]\n\ncommands:\n")
	width := 0
	for _, c := range sortedCommands() {
		width = max(width, len(c.name))
	}
	for _, c := range sortedCommands() {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'simrun help <command>' for a command's flags.\n")
}

func writeCommandHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: simrun %s %s\n\n%s\n", c.name, c.usage, c.summary)
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Usage, "hidden:") {
			return
		}
		if first {
			fmt.Fprintf(w, "\nflags:\n")
			first = false
		}
		name, usage := flag.UnquoteUsage(f)
		if name != "" {
			name = " " + name
		}
		fmt.Fprintf(w, "  -%s%s\n    \t%s", f.Name, name, usage)
		if !zeroDefault(name, f.DefValue) {
			fmt.Fprintf(w, " (default %q)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// zeroDefault reports whether a flag's default is the zero value of its
// type (not worth printing).
func zeroDefault(typeName, def string) bool {
	switch strings.TrimSpace(typeName) {
	case "":
		return def == "false"
	case "string":
		return def == ""
	}
	return def == "0"
}
