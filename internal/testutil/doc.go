// Package testutil holds test helpers shared by skbsim's packages:
// deterministic seeds that can be overridden from the environment, and the
// gate that decides whether tests against the real kernel run.
package testutil
