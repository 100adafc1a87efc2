// Command mutants measures the mutation power of skbsim's test suites:
// it applies each seeded bug of proptest/mutants to a copy of the module,
// one at a time, runs the packages the mutant names, and reports whether
// a test failed (caught) or every test passed (missed). A mutant whose
// search text does not occur exactly once is stale; one that does not
// compile is invalid. Both fail the run, as does any missed mutant. The
// last line is "mutants: caught X of Y".
//
// Usage (from the module root, make mutants):
//
//	go run ./proptest/cmd/mutants [-run regexp] [-timeout 5m] [-worktree] [-v] [-pkgs "./proptest"]
//
// -pkgs replaces every mutant's packages, to measure what one suite
// catches on its own.
//
// By default the copy is the committed tree (git archive HEAD), so work in
// progress elsewhere in the tree cannot change the figure; -worktree copies
// the working tree instead.
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/skbsim/skbsim/proptest/mutants"
)

func main() {
	run := flag.String("run", "", "only mutants whose name matches this regexp")
	timeout := flag.Duration("timeout", 5*time.Minute, "go test timeout per mutant")
	worktree := flag.Bool("worktree", false, "copy the working tree instead of the committed tree")
	verbose := flag.Bool("v", false, "print the test output of missed and invalid mutants")
	pkgs := flag.String("pkgs", "", "test these packages (space-separated) instead of each mutant's own, to measure one suite's power")
	flag.Parse()
	if err := mainErr(*run, *timeout, *worktree, *verbose, strings.Fields(*pkgs)); err != nil {
		fmt.Fprintln(os.Stderr, "mutants:", err)
		os.Exit(1)
	}
}

type outcome int

const (
	caught outcome = iota
	missed
	stale
	invalid
)

func (o outcome) String() string {
	return [...]string{"caught", "MISSED", "STALE", "INVALID"}[o]
}

func mainErr(run string, timeout time.Duration, worktree, verbose bool, only []string) error {
	re, err := regexp.Compile(run)
	if err != nil {
		return err
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "skbsim-mutants-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if worktree {
		err = copyTree(root, tmp)
	} else {
		err = extractHead(root, tmp)
	}
	if err != nil {
		return fmt.Errorf("copying the module: %w", err)
	}
	var list []mutants.Mutant
	var pkgs []string
	for _, m := range mutants.List {
		if len(only) != 0 {
			m.Pkgs = only
		}
		if re.MatchString(m.Name) {
			list = append(list, m)
			for _, p := range m.Pkgs {
				if !slices.Contains(pkgs, p) {
					pkgs = append(pkgs, p)
				}
			}
		}
	}
	if len(list) == 0 {
		return errors.New("no mutant matches -run")
	}
	// The unmutated suites must pass, or "caught" means nothing.
	start := time.Now()
	if out, o := goTest(tmp, pkgs, timeout); o != missed {
		os.Stdout.Write(out)
		return errors.New("the unmutated suites fail; fix them first")
	}
	fmt.Printf("baseline: %s pass unmutated (%.0fs)\n", strings.Join(pkgs, " "), time.Since(start).Seconds())
	counts := map[outcome]int{}
	for _, m := range list {
		start := time.Now()
		o, out := runMutant(tmp, m, timeout)
		counts[o]++
		fmt.Printf("%-7s %-30s %5.0fs  %s [%s]\n", o, m.Name, time.Since(start).Seconds(), m.Desc, strings.Join(m.Pkgs, " "))
		if verbose && (o == missed || o == invalid) || o == stale {
			os.Stdout.Write(out)
		}
	}
	fmt.Printf("mutants: caught %d of %d\n", counts[caught], len(list))
	if counts[caught] != len(list) {
		os.Exit(1)
	}
	return nil
}

// runMutant applies m in the copy at dir, runs its packages and restores
// the file.
func runMutant(dir string, m mutants.Mutant, timeout time.Duration) (outcome, []byte) {
	path := filepath.Join(dir, filepath.FromSlash(m.File))
	src, err := os.ReadFile(path)
	if err != nil {
		return stale, []byte(err.Error() + "\n")
	}
	mut, err := m.Apply(src)
	if err != nil {
		return stale, []byte(err.Error() + "\n")
	}
	if err := os.WriteFile(path, mut, 0o644); err != nil {
		return stale, []byte(err.Error() + "\n")
	}
	defer os.WriteFile(path, src, 0o644)
	out, o := goTest(dir, m.Pkgs, timeout)
	return o, out
}

// goTest runs the packages' tests: caught when a test fails, missed when
// all pass, invalid when the code does not build.
func goTest(dir string, pkgs []string, timeout time.Duration) ([]byte, outcome) {
	args := append([]string{"test", "-count=1", "-failfast", "-timeout", timeout.String()}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	switch {
	case err == nil:
		return out, missed
	case bytes.Contains(out, []byte("[build failed]")) || bytes.Contains(out, []byte("[setup failed]")):
		return out, invalid
	}
	return out, caught
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside a Go module")
	}
	return filepath.Dir(mod), nil
}

// extractHead writes the committed tree (git archive HEAD) into dst.
func extractHead(root, dst string) error {
	cmd := exec.Command("git", "archive", "--format=tar", "HEAD")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	tr := tar.NewReader(out)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		p := filepath.Join(dst, filepath.FromSlash(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			err = writeFile(p, tr, fs.FileMode(h.Mode))
		}
		if err != nil {
			return err
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git archive: %v: %s", err, stderr.String())
	}
	return nil
}

// copyTree copies the working tree, without .git and .cache.
func copyTree(root, dst string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if rel == ".git" || rel == ".cache" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			return err
		}
		return writeFile(filepath.Join(dst, rel), f, info.Mode())
	})
}

func writeFile(p string, r io.Reader, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode.Perm()|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
