// Package proptest holds skbsim's cross-package property, conformance,
// fuzz and mutation suites. It has no API of its own beyond the mutant list
// (package proptest/mutants) and the mutation runner (proptest/cmd/mutants);
// everything else is tests:
//
//   - State machines (rapid) that drive skb, localstorage and every
//     carrier design next to a plain reference model and check invariants
//     after every step, covering what the packages' own machines do not:
//     the reference values of the skb header and data across clone, copy
//     and scrub; every owner type of one kernel at once (cache index spaces
//     per owner type, map free while other owners are active); fault
//     injection (kmem.Fault) at random steps; GRO-like drops; carrier
//     designs under allocation faults.
//   - Cross-strategy equivalence: every skb allocation strategy gives the
//     same reads and errors as rfc for random programs and stack
//     transitions, and differs only by the analytic allocation counts.
//   - Conformance: the kernel's local storage selftests and the skb local
//     storage RFC's selftests restated against the model with the same
//     assertions; each test names the selftest it restates.
//   - Fuzz targets for the local storage operation interface and capture
//     reading; rapid properties are also exposed through rapid.MakeFuzz.
//
// Failing rapid cases are written to testdata/rapid/<Test>/ and replayed
// by rapid before its random checks on every later run: committed, they are
// regression tests. The check count is bounded for CI; PROPTEST_SOAK=k
// multiplies it (make soak).
package proptest
