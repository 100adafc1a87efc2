// Command simrun replays packet captures through skbsim's model of the Linux
// stack and reports where per-packet metadata survived and what it cost.
// Run `simrun help` for the subcommands.
package main

import "os"

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}
