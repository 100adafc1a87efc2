//go:build !linux

package main

import (
	"errors"
	"flag"
)

func init() {
	register(&command{
		name:    "kernel",
		summary: "compare the model with the running Linux kernel: simrun kernel diff (Linux only)",
		usage:   "diff",
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := parse(fs, args); err != nil {
				return err
			}
			return errors.New("kernel diff needs Linux")
		},
	})
}
