package main

import (
	"flag"
	"io"
)

func init() {
	register(&command{
		name:    "help",
		summary: "describe simrun or one of its commands",
		usage:   "[command]",
		run:     runHelp,
	})
}

func runHelp(e *env, fs *flag.FlagSet, args []string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	switch fs.NArg() {
	case 0:
		writeHelp(e.stdout)
		return nil
	case 1:
		c, ok := commands[fs.Arg(0)]
		if !ok {
			return usagef("unknown command %q", fs.Arg(0))
		}
		cfs := flag.NewFlagSet("simrun "+c.name, flag.ContinueOnError)
		cfs.SetOutput(io.Discard)
		// Running the command with -h registers its flags and stops.
		_ = c.run(e, cfs, []string{"-h"})
		writeCommandHelp(e.stdout, c, cfs)
		return nil
	}
	return usagef("too many arguments")
}
