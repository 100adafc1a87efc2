// Package proptest holds skbsim's cross-package property, conformance,
// fuzz and mutation suites. Its only non-test code is the mutant list
// (package proptest/mutants) and the mutation runner (proptest/cmd/mutants,
// make mutants). The suites build on the packages' own rapid machines
// (skb/prop_test.go, localstorage/state_test.go and skbstate_test.go,
// carrier/model_test.go and strategy_test.go) and cover what those miss:
//
//   - skb_test.go: skb against a reference of values (header fields
//     across clone, copy and scrub with and without xnet; data bytes shared
//     by clones, private after a copy or unclone; hooks fired once per
//     event; storage ownership under the default ExtCOWClearIfActive rule;
//     skb_share_check; allocation faults).
//   - owners_test.go: one kernel with sk, task and skb owners at once, per
//     strategy: maps of every owner type with their own cache index spaces,
//     maps freed while owners hold elements, owners destroyed, dying
//     sockets and exited tasks, passive-open clones, the syscall errno
//     matrix (EBADF, ENOTSOCK, ENOTSUPP, EOPNOTSUPP), a reference of every
//     cache slot, sk_omem_alloc and mem_charge, the accountant's live
//     objects per strategy, and probabilistic allocation faults at random
//     steps (a failed operation reports ENOMEM and changes nothing else).
//   - equiv_test.go: the skb allocation strategies give rfc's reads, errors
//     and skb states for random programs and transitions, and differ only
//     by the analytic allocation counts and bytes (stated on
//     TestStrategyEquivalence).
//   - carrier_test.go: every carrier design under allocation faults (failed
//     writes are atomic), with every copy kind, GSO segments,
//     pskb_expand_head and flagged maps.
//   - conformance_*_test.go, gro_test.go: the kernel's local storage
//     selftests, the skb local storage RFC's seven subtests and the lab's
//     charging measurements, restated with the same assertions; each test
//     names what it restates.
//   - fuzz_test.go, fuzz_sim_test.go: damaged captures, local storage
//     operation sequences (rapid.MakeFuzz of the owners machine) and the
//     scenario loader.
//
// Failing rapid cases are written to testdata/rapid/<Test>/ and replayed by
// rapid before its random checks on every later run; fuzz crashers land in
// testdata/fuzz/<Fuzz>/ and run as seeds: committed, both are regression
// tests. Check counts are bounded for CI (about 20 s of test time on two idle cores);
// PROPTEST_SOAK=k multiplies them (make soak), -rapid.checks overrides
// them.
package proptest
